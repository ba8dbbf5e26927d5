"""aiokafka against every listener and mechanism of a secured broker."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context

from tests.security.support import MECHANISMS, PASSWORD, USER, SecureBroker

CASES = [(p, m) for p in ("SASL_PLAINTEXT", "SASL_SSL") for m in MECHANISMS] + [("SSL", None)]


def settings(broker: SecureBroker, protocol: str, mechanism: str | None, password: str = PASSWORD
             ) -> dict[str, Any]:
    conf: dict[str, Any] = {"bootstrap_servers": broker.address(protocol), "security_protocol": protocol}
    if mechanism:
        conf.update(sasl_mechanism=mechanism, sasl_plain_username=USER, sasl_plain_password=password)
    if protocol == "SSL":
        conf["ssl_context"] = create_ssl_context(cafile=str(broker.tls.ca_file),
                                                 certfile=str(broker.tls.client_cert),
                                                 keyfile=str(broker.tls.client_key))
    elif protocol.endswith("SSL"):
        conf["ssl_context"] = create_ssl_context(cafile=str(broker.tls.ca_file))
    return conf


async def round_trip(conf: dict[str, Any]) -> list[bytes]:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(**conf)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, b"v%d" % i)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest", **conf)
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            async for message in consumer:
                values.append(message.value)
                if len(values) == 5:
                    break
    finally:
        await consumer.stop()
    return values


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
def test_produce_consume(secure_broker: SecureBroker, protocol: str, mechanism: str | None) -> None:
    values = asyncio.run(round_trip(settings(secure_broker, protocol, mechanism)))
    assert values == [b"v%d" % i for i in range(5)]


@pytest.mark.parametrize(("protocol", "mechanism"), CASES[:-1])
def test_wrong_password_fails(secure_broker: SecureBroker, protocol: str, mechanism: str,
                              caplog: pytest.LogCaptureFixture) -> None:
    """aiokafka's start() raises KafkaConnectionError and logs the broker's reason."""
    async def start() -> None:
        producer = AIOKafkaProducer(**settings(secure_broker, protocol, mechanism, password="wrong"))
        try:
            await producer.start()
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(start())
    assert any("Authentication failed" in record.getMessage() for record in caplog.records), [
        record.getMessage() for record in caplog.records]
