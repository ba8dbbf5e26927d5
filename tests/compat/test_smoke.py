"""The shortest real round trip: confluent-kafka against a fresh broker process."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess


def test_produce_consume_roundtrip(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("smoke", 2, 1)])["smoke"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(100):
        producer.produce("smoke", key=b"k%d" % i, value=b"v%d" % i, partition=i % 2)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("smoke", p, 0) for p in range(2)])
    seen = {}
    for _ in range(50):
        for msg in consumer.consume(100, 0.5):
            assert msg.error() is None
            seen[msg.key()] = (msg.value(), msg.partition(), msg.offset())
        if len(seen) == 100:
            break
    consumer.close()
    assert len(seen) == 100
    assert seen[b"k7"] == (b"v7", 1, 3)
