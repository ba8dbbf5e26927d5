"""One consumer of a group, driven by a test over stdin/stdout, for any Python client.

`python group_worker.py CLIENT BOOTSTRAP GROUP TOPIC [ASSIGNOR]` (ASSIGNOR "consumer" means
confluent-kafka with group.protocol=consumer, KIP-848) prints JSON lines:
{"e": "assigned", "ps": [...]} whenever its assignment changes, {"e": "consumed", "p", "o"}
per record and {"e": "committed", "p", "o"} once the commit of offset o (the next to read)
has been acknowledged; it commits synchronously after every record, so its uncommitted
window is at most the record in hand. "close" on stdin closes the consumer cleanly (it
leaves the group) and prints {"e": "closed"}. It runs as its own process so that a test can
SIGKILL it.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import logging
import signal
import sys
import threading
from typing import Any

SESSION_MS = 6000
HEARTBEAT_MS = 500


def emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class Control:
    def __init__(self) -> None:
        self.closing = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in sys.stdin:
            if line.strip() == "close":
                break
        self.closing.set()


def report(last: list[int] | None, now: list[int]) -> list[int]:
    if now != last:
        emit(e="assigned", ps=now)
    return now


def run_confluent(bootstrap: str, group: str, topic: str, assignor: str, control: Control) -> None:
    from confluent_kafka import Consumer, KafkaException

    settings: dict[str, Any] = {
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    }
    if assignor == "consumer":  # KIP-848: the broker assigns; session and heartbeat are its own
        settings["group.protocol"] = "consumer"
    else:
        settings.update({"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": HEARTBEAT_MS,
                         "partition.assignment.strategy": assignor or "range"})
    consumer = Consumer(settings)
    consumer.subscribe([topic])
    last = None
    while not control.closing.is_set():
        msg = consumer.poll(0.1)
        last = report(last, sorted(tp.partition for tp in consumer.assignment()))
        if msg is None or msg.error():
            continue
        offset = msg.offset()
        assert offset is not None  # a consumed record always has one
        emit(e="consumed", p=msg.partition(), o=offset)
        try:
            consumer.commit(message=msg, asynchronous=False)
            emit(e="committed", p=msg.partition(), o=offset + 1)
        except KafkaException as exc:
            emit(e="commit_failed", p=msg.partition(), o=offset + 1, error=str(exc))
    consumer.close()


def run_kafka_python(bootstrap: str, group: str, topic: str, assignor: str, control: Control) -> None:
    from kafka import KafkaConsumer, OffsetAndMetadata
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.errors import KafkaError

    strategies = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
        partition_assignment_strategy=[strategies[assignor or "range"]],
    )
    # Load the topic's metadata before joining. Otherwise, with the test broker's
    # group.initial.rebalance.delay.ms=0, the leader assigns before it knows the partitions
    # and must rejoin at once; kafka-python 3.0.12 sometimes wedges in
    # ensure_coordinator_ready after that quick rejoin (seen ~1 run in 10, its stacks show
    # no request in flight), which is a client matter, not the group protocol under test.
    consumer.partitions_for_topic(topic)
    consumer.subscribe([topic])
    last = None
    while not control.closing.is_set():
        batches = consumer.poll(timeout_ms=100)
        last = report(last, sorted(tp.partition for tp in consumer.assignment()))
        for tp, records in batches.items():
            for record in records:
                emit(e="consumed", p=tp.partition, o=record.offset)
                try:
                    consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "", -1)})
                    emit(e="committed", p=tp.partition, o=record.offset + 1)
                except KafkaError as exc:
                    emit(e="commit_failed", p=tp.partition, o=record.offset + 1, error=repr(exc))
    consumer.close()


async def run_aiokafka(bootstrap: str, group: str, topic: str, assignor: str, control: Control) -> None:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.coordinator.assignors.range import RangePartitionAssignor
    from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from aiokafka.errors import KafkaError

    strategies = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, session_timeout_ms=SESSION_MS, heartbeat_interval_ms=HEARTBEAT_MS,
        partition_assignment_strategy=(strategies[assignor or "range"],),
    )
    await consumer.start()
    last = None
    while not control.closing.is_set():
        batches = await consumer.getmany(timeout_ms=100)
        last = report(last, sorted(tp.partition for tp in consumer.assignment()))
        for tp, records in batches.items():
            for record in records:
                emit(e="consumed", p=tp.partition, o=record.offset)
                try:
                    await consumer.commit({tp: record.offset + 1})
                    emit(e="committed", p=tp.partition, o=record.offset + 1)
                except KafkaError as exc:
                    emit(e="commit_failed", p=tp.partition, o=record.offset + 1, error=repr(exc))
    await consumer.stop()


def main() -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a stuck client shows where
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    client, bootstrap, group, topic = sys.argv[1:5]
    assignor = sys.argv[5] if len(sys.argv) > 5 else ""
    control = Control()
    if client == "confluent":
        run_confluent(bootstrap, group, topic, assignor, control)
    elif client == "kafka-python":
        run_kafka_python(bootstrap, group, topic, assignor, control)
    elif client == "aiokafka":
        asyncio.run(run_aiokafka(bootstrap, group, topic, assignor, control))
    else:
        raise SystemExit(f"unknown client {client}")
    emit(e="closed")


if __name__ == "__main__":
    main()
