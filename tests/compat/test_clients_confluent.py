"""confluent-kafka (librdkafka) against a real broker: the issue-2 acceptance round trip
for every compression codec, with the client's own AdminClient for topic and config ops."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    OffsetSpec,
)

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
from tests.support import messages
from tests.support.broker import BrokerProcess


def produce(bootstrap: str, topic: str, codec: str, data: DataSet) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "compression.codec": codec,
                         "linger.ms": 10, "acks": "all"})
    failures: list[KafkaError] = []

    def delivered(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            failures.append(err)

    for _i, partition, key, value, headers, ts in data.items():
        while True:
            try:
                producer.produce(topic, value=value, key=key, partition=partition,
                                 timestamp=ts, headers=list(headers), on_delivery=delivered)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0
    assert failures == []


def consume_all(bootstrap: str, topic: str, data: DataSet) -> list[Record]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compat-unused",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(data.partitions)])
    read: list[Record] = []
    try:
        idle = 0
        while len(read) < data.count and idle < 20:
            batch = consumer.consume(10_000, 0.5)
            idle = 0 if batch else idle + 1
            for msg in batch:
                assert msg.error() is None, msg.error()
                read.append(Record(messages.partition(msg), messages.offset(msg), msg.key(),
                                   msg.value(), tuple(messages.headers(msg)), msg.timestamp()[1]))
    finally:
        consumer.close()
    return read


def list_offsets(admin: AdminClient, topic: str, partitions: int, spec: OffsetSpec) -> dict[int, int]:
    futures = admin.list_offsets({TopicPartition(topic, p): spec for p in range(partitions)})
    return {tp.partition: f.result(10).offset for tp, f in futures.items()}


@pytest.mark.parametrize("codec", CODECS)
def test_confluent_kafka_round_trip(broker: BrokerProcess, codec: str) -> None:
    data = DataSet()
    topic = topic_name("confluent", codec)
    watch = Stopwatch(f"confluent-kafka {codec}")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, data.partitions, 1)])[topic].result(10)
    watch.lap("create")

    produce(broker.bootstrap, topic, codec, data)
    watch.lap("produce")
    check_read_back(data, consume_all(broker.bootstrap, topic, data))
    check_stored_codec(broker.data_dir, topic, codec)
    watch.lap("consume+check")

    counts = data.per_partition()
    assert list_offsets(admin, topic, data.partitions, OffsetSpec.earliest()) == dict.fromkeys(counts, 0)
    assert list_offsets(admin, topic, data.partitions, OffsetSpec.latest()) == counts
    middle = data.timestamp(data.count // 2)
    check_offsets_for_time(data, list_offsets(admin, topic, data.partitions,
                                              OffsetSpec.for_timestamp(middle)), middle)
    assert list_offsets(admin, topic, data.partitions, OffsetSpec.max_timestamp()) == {
        p: n - 1 for p, n in counts.items()}

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    name, value = ALTERED_CONFIG
    resource.add_incremental_config(ConfigEntry(name, value,
                                                incremental_operation=AlterConfigOpType.SET))
    admin.incremental_alter_configs([resource])[resource].result(10)
    described = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    configs = next(iter(described.values())).result(10)
    assert configs[name].value == value
    assert configs[name].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["cleanup.policy"].value == "delete"

    admin.delete_topics([topic])[topic].result(10)
    assert topic not in admin.list_topics(timeout=10).topics
    watch.lap("admin")
    watch.report()
