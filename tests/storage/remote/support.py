"""Shared by the tiered-storage tests and bench/tiered_read.py: a broker with a remote tier,
a record set every client can print the same way, readers for confluent-kafka, kafka-python
and kcat, ListOffsets over a raw socket, and a look at the remote tier's metadata files."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from fjord.storage.remote.metadata import DIRECTORY, PartitionMetadata
from tests.support import messages
from tests.support.broker import BrokerProcess
from tests.support.raw_client import RawClient

LIST_OFFSETS = 2
EARLIEST, EARLIEST_LOCAL, LATEST_TIERED, LATEST = -2, -4, -5, -1
Row = tuple[int, int, str, str]  # partition, offset, key, value


def tiered_overrides(uri: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A broker that copies and expires every half second (tests wait for it, never sleep)."""
    return {"remote.log.storage.system.enable": "true", "rsm.config.uri": uri,
            "remote.log.manager.task.interval.ms": "300",
            "remote.log.manager.task.retry.backoff.ms": "200",
            "remote.log.manager.task.retry.backoff.max.ms": "1000",
            "log.retention.check.interval.ms": "300",
            "rsm.config.chunk.size": "262144", "rsm.config.fetch.chunk.cache.size": "4194304",
            **(extra or {})}


def s3_overrides(endpoint: str, access_key: str, secret_key: str) -> dict[str, str]:
    return {"rsm.config.s3.endpoint.url": endpoint, "rsm.config.s3.region": "us-east-1",
            "rsm.config.s3.access.key.id": access_key,
            "rsm.config.s3.secret.access.key": secret_key,
            "rsm.config.s3.path.style.access": "true"}


def create_tiered_topic(bootstrap: str, topic: str, partitions: int, segment_bytes: int,
                        local_retention_bytes: int, extra: dict[str, str] | None = None) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    config = {"remote.storage.enable": "true", "segment.bytes": str(segment_bytes),
              "local.retention.bytes": str(local_retention_bytes), **(extra or {})}
    admin.create_topics([NewTopic(topic, partitions, 1, config=config)])[topic].result(15)


def value_of(index: int, size: int) -> str:
    """Text values (kcat prints them as they are), distinct per record."""
    head = f"v{index:09d}-"
    return head + hashlib.sha256(str(index).encode()).hexdigest()[: max(0, size - len(head))].ljust(
        max(0, size - len(head)), "x")


def produce(bootstrap: str, topic: str, partitions: int, megabytes: float, value_size: int = 1000,
            start: int = 0) -> int:
    """Records keyed k<index>, spread round-robin; returns how many were acknowledged."""
    count = int(megabytes * 1024 * 1024 / value_size)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all",
                         "batch.size": 262144, "compression.type": "none"})
    for i in range(start, start + count):
        while True:
            try:
                producer.produce(topic, key=f"k{i}".encode(), value=value_of(i, value_size).encode(),
                                 partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0
    return count


def produce_transactions(bootstrap: str, topic: str, partitions: int, transactions: int,
                         per_transaction: int, value_size: int = 500) -> set[str]:
    """Every third transaction is aborted; returns the committed values."""
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": f"tx-{topic}",
                         "linger.ms": 5})
    producer.init_transactions(30)
    committed: set[str] = set()
    index = 0
    for t in range(transactions):
        producer.begin_transaction()
        values = []
        for _ in range(per_transaction):
            value = value_of(index, value_size)
            producer.produce(topic, key=f"k{index}".encode(), value=value.encode(),
                             partition=index % partitions)
            values.append(value)
            index += 1
        assert producer.flush(30) == 0  # aborted records must reach the log (abort purges unsent ones)
        if t % 3 == 2:
            producer.abort_transaction(30)
        else:
            producer.commit_transaction(30)
            committed.update(values)
    return committed


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ends"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in range(partitions)}
    finally:
        consumer.close()


def read_confluent(bootstrap: str, topic: str, partitions: int, committed: bool = False,
                   timeout: float = 180) -> list[Row]:
    ends = end_offsets(bootstrap, topic, partitions)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tiered-check",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "isolation.level": "read_committed" if committed else "read_uncommitted"})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    rows: list[Row] = []
    done: set[int] = {p for p, end in ends.items() if end == 0}
    deadline = time.monotonic() + timeout
    try:
        while len(done) < partitions:
            assert time.monotonic() < deadline, f"confluent-kafka read timed out ({len(rows)} rows)"
            for message in consumer.consume(1000, 1.0):
                if message.error() is not None:
                    if messages.error_code(message) == -191:  # _PARTITION_EOF
                        done.add(messages.partition(message))
                        continue
                    raise AssertionError(f"consumer error: {message.error()}")
                rows.append((messages.partition(message), messages.offset(message),
                             (message.key() or b"").decode(), messages.value(message).decode()))
    finally:
        consumer.close()
    return rows


def read_kafka_python(bootstrap: str, topic: str, partitions: int, committed: bool = False,
                      timeout: float = 180) -> list[Row]:
    from kafka import KafkaConsumer
    from kafka import TopicPartition as KTopicPartition

    ends = end_offsets(bootstrap, topic, partitions)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", max_poll_records=10_000,
                             isolation_level="read_committed" if committed else "read_uncommitted")
    assigned = [KTopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    rows: list[Row] = []
    deadline = time.monotonic() + timeout
    try:
        while any(consumer.position(tp) < ends[tp.partition] for tp in assigned):
            assert time.monotonic() < deadline, f"kafka-python read timed out ({len(rows)} rows)"
            for tp, messages in consumer.poll(1000).items():
                rows += [(tp.partition, m.offset, m.key.decode(), m.value.decode()) for m in messages]
    finally:
        consumer.close()
    return rows


def read_kcat(bootstrap: str, topic: str, partitions: int, committed: bool = False) -> list[Row]:
    binary = shutil.which("kcat")
    assert binary, "kcat is missing: run `bash scripts/setup.sh --test` (installs it with apt-get)"
    rows: list[Row] = []
    for partition in range(partitions):
        args = [binary, "-C", "-b", bootstrap, "-t", topic, "-p", str(partition), "-o", "beginning",
                "-e", "-q", "-f", r"%p\t%o\t%k\t%s\n"]
        if committed:
            args += ["-X", "isolation.level=read_committed"]
        result = subprocess.run(args, capture_output=True, timeout=300)
        assert result.returncode == 0, f"kcat failed: {result.stderr.decode()}"
        for line in result.stdout.decode().splitlines():
            part, offset, key, value = line.split("\t")
            rows.append((int(part), int(offset), key, value))
    return rows


def list_offsets(broker: BrokerProcess, topic: str, partitions: int, spec: int,
                 version: int = 9) -> dict[int, tuple[int, int]]:
    """{partition: (error code, offset)} for a ListOffsets spec, over a raw socket (no client
    library sends EARLIEST_LOCAL or LATEST_TIERED)."""
    client = RawClient(broker)
    try:
        response: Any = client.call(LIST_OFFSETS, version, {
            "replica_id": -1, "isolation_level": 0,
            "topics": [{"name": topic, "partitions": [
                {"partition_index": p, "current_leader_epoch": -1, "timestamp": spec}
                for p in range(partitions)]}]})
    finally:
        client.close()
    return {p.partition_index: (int(p.error_code), p.offset) for p in response.topics[0].partitions}


def remote_metadata(data_dir: Path, topic: str) -> dict[int, PartitionMetadata]:
    """The remote tier's metadata of a topic as the broker left it on disk."""
    found: dict[int, PartitionMetadata] = {}
    for directory in (data_dir / DIRECTORY).glob(f"{topic}-*"):
        topic_id = directory.name.rpartition("-")[2]
        for path in directory.glob("*.jsonl"):
            copy = path.with_name(path.name + ".inspect")
            shutil.copyfile(path, copy)  # opening compacts: never touch the broker's own file
            found[int(path.stem)] = PartitionMetadata(copy, topic, topic_id, int(path.stem))
            copy.unlink()
    return found


def local_bytes(data_dir: Path, topic: str, partition: int) -> int:
    return sum(p.stat().st_size for p in (data_dir / f"{topic}-{partition}").glob("*.log"))
