"""kill -9 loses no acknowledged write (feature map B2, docs/durability.md).

An idempotent acks=all producer (confluent-kafka) writes continuously while the broker is
killed with SIGKILL and restarted again and again. The producer rides through the outages
with its own retries; afterwards every record whose delivery callback reported success
must be in the log at the offset it was acknowledged with, each partition's offsets must be
contiguous from 0, and no record may be there twice (the idempotent producer's sequence
numbers survive the restarts because the broker rebuilds its producer state on recovery).
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support import messages
from tests.support.broker import BrokerProcess

TOPIC = "durable"
PARTITIONS = 3
KILLS = 10


class AckingProducer(threading.Thread):
    """Produces numbered records until stopped; remembers what was acknowledged where."""

    def __init__(self, bootstrap: str) -> None:
        super().__init__(daemon=True)
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
        self.fatal: KafkaError | None = None

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
                    self.producer.produce(TOPIC, value=value, key=value[-3:],
                                          partition=self.sent % PARTITIONS,
                                          on_delivery=self._delivered)
                except BufferError:
                    break
                self.sent += 1
            self.producer.poll(0.01)

    def finish(self) -> int:
        self.stopping.set()
        self.join(30)
        return self.producer.flush(120)


def read_partition(bootstrap: str, partition: int, end: int) -> list[tuple[int, bytes]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "durability-unused",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(TOPIC, partition, 0)])
    records: list[tuple[int, bytes]] = []
    try:
        deadline = time.monotonic() + 60
        while (not records or records[-1][0] < end - 1) and time.monotonic() < deadline:
            for msg in consumer.consume(10_000, 0.5):
                assert msg.error() is None, msg.error()
                records.append((messages.offset(msg), messages.value(msg)))
    finally:
        consumer.close()
    return records


def end_offsets(bootstrap: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "durability-unused"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(TOPIC, p), timeout=10)[1]
                for p in range(PARTITIONS)}
    finally:
        consumer.close()


def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    # Small segments: kills also land around segment rolls, so recovery must cope with
    # several segments per partition, not only a torn tail in the first one.
    broker = BrokerProcess(tmp_path / "data", {"log.flush.interval.messages": "1",
                                               "log.segment.bytes": "131072"}).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
        producer = AckingProducer(broker.bootstrap)
        producer.start()
        rng = random.Random(7)
        acked_before_kill = []
        resume_times = []
        in_flight = []
        for _ in range(KILLS):
            # Each kill must interrupt a producer that is really writing: wait until
            # acknowledgements flow again after the previous restart.
            restarted = time.monotonic()
            floor = len(producer.acked)
            while len(producer.acked) < floor + 500:
                assert time.monotonic() - restarted < 30, "producer did not resume after restart"
                time.sleep(0.02)
            resume_times.append(time.monotonic() - restarted)
            time.sleep(rng.uniform(0.05, 0.5))
            acked_before_kill.append(len(producer.acked))
            in_flight.append(producer.sent - len(producer.acked))
            broker.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            broker.start()
        time.sleep(1.0)
        assert producer.finish() == 0, "records still undelivered after the last restart"
        acked = producer.acked
        print(f"sent={producer.sent} acked={len(acked)} failed={len(producer.failed)} "
              f"acked before each kill={acked_before_kill} "
              f"unacknowledged at each kill={in_flight} "
              f"seconds to resume={[round(t, 2) for t in resume_times]}")
        # Kills landed on a producer with records in flight, not between bursts.
        assert sum(1 for n in in_flight if n > 0) >= KILLS // 2
        assert producer.failed == []

        ends = end_offsets(broker.bootstrap)
        read: dict[bytes, tuple[int, int]] = {}
        for partition in range(PARTITIONS):
            records = read_partition(broker.bootstrap, partition, ends[partition])
            offsets = [offset for offset, _ in records]
            assert offsets == list(range(ends[partition])), f"partition {partition}: offsets not contiguous"
            for offset, value in records:
                assert value not in read, f"{value!r} written twice"
                read[value] = (partition, offset)
        missing = {v: where for v, where in acked.items() if read.get(v) != where}
        print(f"read={len(read)} acknowledged-but-missing={len(missing)}")
        assert missing == {}
        assert len(read) == producer.sent  # flush() == 0: every record was acknowledged
        segments = sorted((tmp_path / "data" / f"{TOPIC}-0").glob("*.log"))
        print(f"segments of partition 0: {len(segments)}")
        assert len(segments) > 3
        assert broker.alive()
    finally:
        broker.stop()
