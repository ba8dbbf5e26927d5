"""A restart keeps topics, their ids, configs and data: after a clean stop (SIGTERM) and
after SIGKILL, and the log continues at the offsets it had."""

from __future__ import annotations

import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

from tests.support import messages
from tests.support.broker import BrokerFactory

TOPICS = {"orders": 3, "audit": 1}
CONFIGS = {"orders": {"retention.ms": "86400000", "cleanup.policy": "delete"},
           "audit": {"max.message.bytes": "200000", "segment.bytes": "4096"}}
PER_PARTITION = 200


def produce(bootstrap: str, topic: str, partitions: int, round_: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    for partition in range(partitions):
        for i in range(PER_PARTITION):
            producer.produce(topic, value=b"%s-%d-%d-%d" % (topic.encode(), round_, partition, i),
                             key=b"%d" % i, partition=partition, headers=[("round", b"%d" % round_)])
    assert producer.flush(30) == 0


def snapshot(bootstrap: str) -> dict[str, Any]:
    """Everything a restart must preserve, as clients see it."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = sorted(t for t in admin.list_topics(timeout=10).topics if not t.startswith("_"))
    described = admin.describe_topics(TopicCollection(topics))
    ids = {name: str(future.result(10).topic_id) for name, future in described.items()}
    configs = {}
    for topic in topics:
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        entries = admin.describe_configs([resource])[resource].result(10)
        configs[topic] = {k: v.value for k, v in entries.items() if k in CONFIGS.get(topic, {})}
    data: dict[str, list[tuple[int, int, bytes | None, bytes | None, object]]] = {}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "restart-unused",
                         "enable.auto.commit": False})
    try:
        for topic in topics:
            partitions = len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
            ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in range(partitions)}
            consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
            records: list[tuple[int, int, bytes | None, bytes | None, object]] = []
            deadline = time.monotonic() + 15
            while len(records) < sum(ends.values()):
                assert time.monotonic() < deadline, f"{topic}: read {len(records)} records"
                for msg in consumer.consume(1000, 0.2):
                    assert msg.error() is None, msg.error()
                    records.append((messages.partition(msg), messages.offset(msg), msg.key(),
                                    msg.value(), msg.headers()))
            data[topic] = sorted(records, key=lambda r: (r[0], r[1]))
            consumer.unassign()
    finally:
        consumer.close()
    return {"topics": topics, "ids": ids, "configs": configs, "data": data}


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_restart_keeps_topics_configs_and_data(broker_factory: BrokerFactory,
                                               how: str) -> None:
    broker = broker_factory()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    futures = admin.create_topics([NewTopic(name, n, 1, config=CONFIGS[name])
                                   for name, n in TOPICS.items()])
    for future in futures.values():
        future.result(10)
    for topic, partitions in TOPICS.items():
        produce(broker.bootstrap, topic, partitions, 1)
    # A topic grown after creation and one deleted: both must stay as they ended up.
    admin.create_partitions([NewPartitions("audit", 2)])["audit"].result(10)
    admin.create_topics([NewTopic("doomed", 1, 1)])["doomed"].result(10)
    admin.delete_topics(["doomed"])["doomed"].result(10)
    before = snapshot(broker.bootstrap)
    assert before["topics"] == ["audit", "orders"]
    assert before["configs"] == CONFIGS

    if how == "sigterm":
        assert broker.stop() == 0
        assert (broker.data_dir / ".kafka_cleanshutdown").exists()
    else:
        broker.kill()
    broker.start()
    assert snapshot(broker.bootstrap) == before
    if how == "sigkill":
        assert "unclean shutdown" in broker.log_tail(50)

    # Writing continues at the offsets the log had.
    produce(broker.bootstrap, "orders", TOPICS["orders"], 2)
    after = snapshot(broker.bootstrap)
    orders = after["data"]["orders"]
    assert len(orders) == 2 * PER_PARTITION * TOPICS["orders"]
    for partition in range(TOPICS["orders"]):
        offsets = [r[1] for r in orders if r[0] == partition]
        assert offsets == list(range(2 * PER_PARTITION))
