"""group.initial.rebalance.delay.ms: the first join of an empty group waits that long (so a
starting fleet lands in one generation), and never waits out session.timeout.ms."""

from __future__ import annotations

import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerFactory, BrokerProcess

SESSION_MS = 10000


def _time_to_assignment(bootstrap: str, group: str, topic: str,
                        consumers: int = 1) -> tuple[float, list[Consumer]]:
    started = time.monotonic()
    members = []
    for _ in range(consumers):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                             "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500,
                             "enable.auto.commit": False})
        consumer.subscribe([topic])
        members.append(consumer)
    deadline = started + 30
    while time.monotonic() < deadline:
        for consumer in members:
            consumer.poll(0.01)
        if all(consumer.assignment() for consumer in members):
            return time.monotonic() - started, members
    raise AssertionError("no assignment within 30 s")


def _topic(bootstrap: str, name: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def test_first_join_without_delay_is_fast(broker: BrokerProcess) -> None:
    _topic(broker.bootstrap, "delay0")
    elapsed, members = _time_to_assignment(broker.bootstrap, "g-delay0", "delay0")
    for consumer in members:
        consumer.close()
    assert elapsed < 1.0, f"first join took {elapsed:.2f}s with group.initial.rebalance.delay.ms=0"


def test_first_join_waits_the_initial_delay(broker_factory: BrokerFactory) -> None:
    broker = broker_factory({"group.initial.rebalance.delay.ms": "3000"})
    _topic(broker.bootstrap, "delay3000")
    elapsed, members = _time_to_assignment(broker.bootstrap, "g-one", "delay3000")
    for consumer in members:
        consumer.close()
    assert 2.8 <= elapsed < 4.0, f"first join took {elapsed:.2f}s with a 3000 ms delay"

    # Members arriving during the delay extend it once more (Kafka's InitialDelayedJoin) and
    # land in one generation: every partition exactly once, no rebalance after.
    elapsed, members = _time_to_assignment(broker.bootstrap, "g-three", "delay3000", consumers=3)
    partitions = [tp.partition for consumer in members for tp in consumer.assignment()]
    for consumer in members:
        consumer.close()
    assert 5.8 <= elapsed < 8.0, f"a fleet of three took {elapsed:.2f}s to join with a 3000 ms delay"
    assert sorted(partitions) == [0, 1, 2]
