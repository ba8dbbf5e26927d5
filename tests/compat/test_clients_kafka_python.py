"""kafka-python (pure Python) against a real broker: the issue-2 acceptance round trip for
every compression codec, with KafkaAdminClient for topic and config ops."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

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


def produce(bootstrap: str, topic: str, codec: str, data: DataSet) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=10,
                             batch_size=256 * 1024,
                             compression_type=None if codec == "none" else codec)
    futures = []
    for _i, partition, key, value, headers, ts in data.items():
        futures.append(producer.send(topic, value=value, key=key, partition=partition,
                                     timestamp_ms=ts, headers=list(headers)))
    producer.flush(60)
    producer.close(10)
    for future in futures:
        assert future.succeeded(), future.exception


def consume_all(bootstrap: str, topic: str, data: DataSet) -> list[Record]:
    # group_id=None: manual assignment, no coordinator, no commits.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", max_poll_records=10_000,
                             fetch_max_bytes=16 * 1024 * 1024)
    partitions = [TopicPartition(topic, p) for p in range(data.partitions)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    read: list[Record] = []
    try:
        idle = 0
        while len(read) < data.count and idle < 20:
            polled = consumer.poll(timeout_ms=500)
            idle = 0 if polled else idle + 1
            # poll() groups by partition; order within each partition is what counts.
            for messages in polled.values():
                for msg in messages:
                    read.append(Record(msg.partition, msg.offset, msg.key, msg.value,
                                       tuple(msg.headers), msg.timestamp))
    finally:
        consumer.close()
    return read


@pytest.mark.parametrize("codec", CODECS)
def test_kafka_python_round_trip(broker: BrokerProcess, codec: str) -> None:
    data = DataSet()
    topic = topic_name("kafka-python", codec)
    watch = Stopwatch(f"kafka-python {codec}")
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([NewTopic(topic, data.partitions, 1)])
        watch.lap("create")

        produce(broker.bootstrap, topic, codec, data)
        watch.lap("produce")
        check_read_back(data, consume_all(broker.bootstrap, topic, data))
        check_stored_codec(broker.data_dir, topic, codec)
        watch.lap("consume+check")

        # The consumer's offset lookups are ListOffsets requests (earliest, latest, by time).
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                                 enable_auto_commit=False)
        try:
            partitions = [TopicPartition(topic, p) for p in range(data.partitions)]
            counts = data.per_partition()
            earliest = consumer.beginning_offsets(partitions)
            assert {tp.partition: o for tp, o in earliest.items()} == dict.fromkeys(counts, 0)
            latest = consumer.end_offsets(partitions)
            assert {tp.partition: o for tp, o in latest.items()} == counts
            middle = data.timestamp(data.count // 2)
            by_time = consumer.offsets_for_times(dict.fromkeys(partitions, middle))
            check_offsets_for_time(data, {tp.partition: found.offset
                                          for tp, found in by_time.items()}, middle)
            for tp, found in by_time.items():
                assert found.timestamp >= middle, (tp, found)
        finally:
            consumer.close()

        name, value = ALTERED_CONFIG
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={name: value})])
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                           config_filter="all")
        entries = described["topic"][topic]
        assert entries[name]["value"] == value
        assert entries[name]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
        assert entries["cleanup.policy"]["value"] == "delete"

        admin.delete_topics([topic])
        assert topic not in admin.list_topics()
        watch.lap("admin")
    finally:
        admin.close()
    watch.report()

