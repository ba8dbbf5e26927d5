"""Data sets and checks shared by the backup acceptance tests and the benchmark."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from fjord.connectors.objectstore.formats import decode_object
from fjord.connectors.objectstore.naming import parse_object_key
from fjord.objectstore.store import ObjectStore
from tests.support import messages

Row = tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]], int]


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)]).values():
        future.result(15)


def produce_mixed(bootstrap: str, topic: str, count: int, partitions: int = 3, seed: int = 7,
                  value_size: int = 64, start_index: int = 0) -> None:
    """Binary keys and values, repeated and null-valued headers, null keys and values, and
    explicit timestamps that are not monotonic (restores must keep them, not re-stamp)."""
    rng = random.Random(seed + start_index)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.num.messages": 2000,
                         "compression.type": "none"})
    base = 1_700_000_000_000
    for i in range(start_index, start_index + count):
        key = None if i % 17 == 0 else rng.randbytes(rng.randint(0, 24))
        value = None if i % 11 == 0 else rng.randbytes(rng.randint(0, value_size))
        headers: list[tuple[str, bytes | None]] = []
        if i % 3 == 0:
            headers = [("trace", rng.randbytes(8)), ("nil", None), ("trace", b"\x00\xff")]
        elif i % 3 == 1:
            headers = [("h\u00e9", b"")]
        timestamp = base + i * 3 - (i % 5) * 7
        while True:
            try:
                producer.produce(topic, key=key, value=value, headers=list(headers) or None,
                                 partition=i % partitions, timestamp=timestamp)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(60) == 0


def read_topic(bootstrap: str, topic: str, timeout: float = 60.0) -> dict[int, list[Row]]:
    """Every record of every partition, in offset order."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{os.urandom(4).hex()}",
                         "enable.auto.commit": False, "enable.partition.eof": False})
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        rows: dict[int, list[Row]] = {p: [] for p in partitions}
        positions = dict.fromkeys(partitions, -1)
        import time

        deadline = time.monotonic() + timeout
        while any(positions[p] + 1 < ends[p] for p in partitions):
            assert time.monotonic() < deadline, f"reading {topic} timed out at {positions} of {ends}"
            for message in consumer.consume(5000, 1.0):
                assert message.error() is None, message.error()
                headers = messages.headers(message)
                rows[messages.partition(message)].append((message.key(), message.value(), headers,
                                                  message.timestamp()[1]))
                positions[messages.partition(message)] = messages.offset(message)
        return rows
    finally:
        consumer.close()


def backed_up(store: ObjectStore, prefix: str, topic: str) -> dict[int, list[Any]]:
    """Every record in the store for the topic, per partition, in object (= offset) order."""
    out: dict[int, list[Any]] = {}
    for info in store.list(f"{prefix}{topic}/"):
        name = parse_object_key(prefix, info.key)
        if name is None:
            continue
        records = decode_object(name.extension, store.get(info.key))
        assert records and records[0].offset == name.first_offset, info.key
        out.setdefault(name.partition, []).extend(records)
    return out


def assert_contiguous(per_partition: dict[int, list[Any]], expected_counts: dict[int, int]) -> None:
    """No gap, no duplicate: offsets 0..n-1 exactly once each, in order."""
    for partition, count in expected_counts.items():
        offsets = [r.offset for r in per_partition.get(partition, [])]
        assert offsets == list(range(count)), (
            f"partition {partition}: {len(offsets)} records, {len(set(offsets))} distinct, "
            f"first gap/dup near {next((i for i, o in enumerate(offsets) if o != i), None)}")


def fjord(*args: str, timeout: float = 120, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    """The real `fjord` command line, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "fjord.cli.main", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, **(env or {})),
                          cwd=Path(__file__).parents[2])
