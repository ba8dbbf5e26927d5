"""aiokafka's transactional producer is told it was fenced (issue 8, "Error codes by request
version"): aiokafka sends AddPartitionsToTxn v0, which cannot carry PRODUCER_FENCED (KIP-588);
Fjord answers INVALID_PRODUCER_EPOCH as Kafka does, and aiokafka raises ProducerFenced rather
than UnknownError. (aiokafka's own functional suite is not in its sdist: see
tests/peer/FINDINGS.md.)"""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import ProducerFenced

from tests.support.broker import BrokerProcess


async def _fenced(bootstrap: str) -> None:
    first = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio-fenced")
    await first.start()
    second = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="aio-fenced")
    try:
        async with first.transaction():
            await first.send_and_wait("aio-fenced", b"before")
        await second.start()  # a new incarnation of the same transactional id
        with pytest.raises(ProducerFenced):
            async with first.transaction():
                await first.send_and_wait("aio-fenced", b"zombie")
        async with second.transaction():
            await second.send_and_wait("aio-fenced", b"after")
    finally:
        await second.stop()
        await first.stop()


def test_aiokafka_zombie_producer_is_fenced(broker: BrokerProcess) -> None:
    asyncio.run(asyncio.wait_for(_fenced(broker.bootstrap), 60))
