"""kill -9 while an idempotent acks=all producer writes: the machinery shared by
tests/compat/test_durability.py (10 kills, asserted) and bench/durability_soak.py (100 kills,
printed). One producer thread that remembers where each record was acknowledged, one kill
loop that only kills a producer that is really writing, one read-back that counts what was
lost and what appears twice.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition

from tests.support import messages
from tests.support.broker import BrokerProcess


class AckingProducer(threading.Thread):
    """Produces numbered records until stopped; remembers what was acknowledged where."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        super().__init__(daemon=True)
        self.topic = topic
        self.partitions = partitions
        self.producer = Producer({
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            # Ride through every outage: retries are unbounded for an idempotent producer;
            # only the overall delivery timeout could expire a record.
            "message.timeout.ms": 300_000,
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 200,
            "retry.backoff.ms": 50,
        })
        self.stopping = threading.Event()
        self.sent = 0
        self.acked: dict[bytes, tuple[int, int]] = {}
        self.failed: list[KafkaError] = []

    def _delivered(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            self.acked[messages.value(msg)] = (messages.partition(msg), messages.offset(msg))
        else:
            self.failed.append(err)

    def run(self) -> None:
        while not self.stopping.is_set():
            for _ in range(50):
                value = b"record-%08d" % self.sent
                try:
                    self.producer.produce(self.topic, value=value, key=value[-3:],
                                          partition=self.sent % self.partitions,
                                          on_delivery=self._delivered)
                except BufferError:
                    break
                self.sent += 1
            self.producer.poll(0.01)

    def finish(self) -> int:
        """Stop producing and wait for every delivery report; returns records still queued."""
        self.stopping.set()
        self.join(30)
        return int(self.producer.flush(120))


@dataclass
class KillStats:
    acked_before_kill: list[int] = field(default_factory=list)
    in_flight_at_kill: list[int] = field(default_factory=list)
    restart_seconds: list[float] = field(default_factory=list)  # start() until listening
    resume_seconds: list[float] = field(default_factory=list)  # start() until acks flow again

    @property
    def median_restart(self) -> float:
        return statistics.median(self.restart_seconds) if self.restart_seconds else 0.0


def kill_loop(broker: BrokerProcess, producer: AckingProducer, kills: int, seed: int = 7,
              resume_timeout: float = 30.0) -> KillStats:
    """SIGKILL and restart the broker `kills` times, each time while records are in flight:
    a kill waits until acknowledgements flow again after the previous restart."""
    rng = random.Random(seed)
    stats = KillStats()
    restarted = time.monotonic()
    for _ in range(kills):
        floor = len(producer.acked)
        while len(producer.acked) < floor + 500:
            if time.monotonic() - restarted > resume_timeout:
                raise AssertionError("producer did not resume after a restart")
            time.sleep(0.02)
        stats.resume_seconds.append(time.monotonic() - restarted)
        time.sleep(rng.uniform(0.05, 0.5))
        stats.acked_before_kill.append(len(producer.acked))
        stats.in_flight_at_kill.append(producer.sent - len(producer.acked))
        broker.kill()
        time.sleep(rng.uniform(0.0, 0.3))
        restarted = time.monotonic()
        broker.start()
        stats.restart_seconds.append(time.monotonic() - restarted)
    return stats


@dataclass
class ReadBack:
    read: int  # distinct records in the log
    lost: int  # acknowledged, but not in the log at the acknowledged offset
    duplicated: int  # records present more than once
    gaps: list[int]  # partitions whose offsets are not contiguous from 0


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "durability-unused"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        consumer.close()


def read_partition(bootstrap: str, topic: str, partition: int, end: int) -> list[tuple[int, bytes]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "durability-unused",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, partition, 0)])
    records: list[tuple[int, bytes]] = []
    try:
        deadline = time.monotonic() + 120
        while (not records or records[-1][0] < end - 1) and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 0.5):
                if msg.error() is not None:
                    raise AssertionError(f"read failed: {msg.error()}")
                records.append((messages.offset(msg), messages.value(msg)))
    finally:
        consumer.close()
    return records


def read_back(bootstrap: str, producer: AckingProducer) -> ReadBack:
    """Everything in the topic against what the producer was told was acknowledged."""
    ends = end_offsets(bootstrap, producer.topic, producer.partitions)
    where: dict[bytes, tuple[int, int]] = {}
    duplicated = 0
    gaps = []
    for partition in range(producer.partitions):
        records = read_partition(bootstrap, producer.topic, partition, ends[partition])
        if [offset for offset, _ in records] != list(range(ends[partition])):
            gaps.append(partition)
        for offset, value in records:
            if value in where:
                duplicated += 1
            else:
                where[value] = (partition, offset)
    lost = sum(1 for value, at in producer.acked.items() if where.get(value) != at)
    return ReadBack(len(where), lost, duplicated, gaps)
