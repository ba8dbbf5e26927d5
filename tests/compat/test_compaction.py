"""A compacted topic through a real broker: clients read the cleaner's batches correctly."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def _read_all(bootstrap: str, topic: str) -> list[tuple[int, bytes, bytes | None]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-check",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    while True:
        msg = consumer.poll(5)
        assert msg is not None, "consumer stalled"
        if msg.error():
            assert msg.error().code() == KafkaError._PARTITION_EOF
            break
        out.append((msg.offset(), msg.key(), msg.value()))
    consumer.close()
    return out


def test_compacted_topic_keeps_latest_value_per_key(broker_factory) -> None:  # type: ignore[no-untyped-def]
    broker = broker_factory({"log.cleaner.backoff.ms": "200"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("table", 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01",
    })])["table"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    last: dict[bytes, bytes] = {}
    for i in range(1500):
        key, value = b"key-%d" % (i % 10), b"value-%d" % i
        producer.produce("table", key=key, value=value)
        last[key] = value
        if i % 100 == 0:
            producer.flush(10)
    producer.flush(10)
    errors: list[KafkaError] = []
    producer.produce("table", key=None, value=b"no key",
                     on_delivery=lambda err, _m: errors.append(err))
    producer.flush(10)
    assert errors and errors[0].code() == KafkaError.INVALID_RECORD

    deadline = time.monotonic() + 30
    records = _read_all(broker.bootstrap, "table")
    while len(records) > 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        records = _read_all(broker.bootstrap, "table")
    assert len(records) <= 200, f"not compacted: {len(records)} records remain"
    offsets = [offset for offset, _k, _v in records]
    assert offsets == sorted(set(offsets))
    assert {key: value for _o, key, value in records} == last
    assert offsets[-1] == 1499
