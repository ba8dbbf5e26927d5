"""aiokafka (asyncio) against a real broker: the issue-2 acceptance round trip for every
compression codec, with AIOKafkaAdminClient for topic and config ops."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from tests.compat.support import (
    ALTERED_CONFIG,
    CODECS,
    DataSet,
    Record,
    Stopwatch,
    check_offsets_for_time,
    check_read_back,
    check_stored_codec,
    topic_name,
)
from tests.support.broker import BrokerProcess

DYNAMIC_TOPIC_CONFIG = 1


async def produce(bootstrap: str, topic: str, codec: str, data: DataSet) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                                max_batch_size=256 * 1024,
                                compression_type=None if codec == "none" else codec)
    await producer.start()
    try:
        pending: list[asyncio.Future[object]] = []
        for _i, partition, key, value, headers, ts in data.items():
            pending.append(await producer.send(topic, value=value, key=key, partition=partition,
                                               timestamp_ms=ts, headers=list(headers)))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def consume_all(bootstrap: str, topic: str, data: DataSet) -> list[Record]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                fetch_max_bytes=16 * 1024 * 1024)
    await consumer.start()
    read: list[Record] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(data.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        idle = 0
        while len(read) < data.count and idle < 20:
            polled = await consumer.getmany(timeout_ms=500, max_records=10_000)
            idle = 0 if polled else idle + 1
            for messages in polled.values():
                for msg in messages:
                    read.append(Record(msg.partition, msg.offset, msg.key, msg.value,
                                       tuple(msg.headers), msg.timestamp))
    finally:
        await consumer.stop()
    return read


async def check_list_offsets(bootstrap: str, topic: str, data: DataSet) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(data.partitions)]
        counts = data.per_partition()
        earliest = await consumer.beginning_offsets(partitions)
        assert {tp.partition: o for tp, o in earliest.items()} == dict.fromkeys(counts, 0)
        latest = await consumer.end_offsets(partitions)
        assert {tp.partition: o for tp, o in latest.items()} == counts
        middle = data.timestamp(data.count // 2)
        by_time = await consumer.offsets_for_times(dict.fromkeys(partitions, middle))
        check_offsets_for_time(data, {tp.partition: found.offset for tp, found in by_time.items()},
                               middle)
    finally:
        await consumer.stop()


async def topic_admin(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        name, value = ALTERED_CONFIG
        responses = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={name: value})])
        for response in responses:
            for resource in response.resources:
                assert resource[0] == 0, f"alter_configs failed: {resource}"
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {}
        for response in responses:
            for resource in response.resources:
                assert resource[0] == 0, f"describe_configs failed: {resource}"
                for entry in resource[4]:
                    entries[entry[0]] = entry
        # (name, value, read_only, config_source, is_sensitive, ...) in DescribeConfigs v1+
        assert entries[name][1] == value
        assert entries[name][3] == DYNAMIC_TOPIC_CONFIG
        assert entries["cleanup.policy"][1] == "delete"
        await admin.delete_topics([topic])
        assert topic not in await admin.list_topics()
    finally:
        await admin.close()


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, partitions, 1)])
        for error in response.topic_errors:
            assert error[1] == 0, f"create_topics failed: {error}"
    finally:
        await admin.close()


@pytest.mark.parametrize("codec", CODECS)
def test_aiokafka_round_trip(broker: BrokerProcess, codec: str) -> None:
    data = DataSet()
    topic = topic_name("aiokafka", codec)
    watch = Stopwatch(f"aiokafka {codec}")

    async def scenario() -> None:
        await create_topic(broker.bootstrap, topic, data.partitions)
        watch.lap("create")
        await produce(broker.bootstrap, topic, codec, data)
        watch.lap("produce")
        check_read_back(data, await consume_all(broker.bootstrap, topic, data))
        check_stored_codec(broker.data_dir, topic, codec)
        watch.lap("consume+check")
        await check_list_offsets(broker.bootstrap, topic, data)
        await topic_admin(broker.bootstrap, topic)
        watch.lap("admin")

    asyncio.run(scenario())
    watch.report()
