"""Retention by bytes and by time (feature map B3): old segments disappear from disk, the
log start offset moves, and consumers positioned before it get OFFSET_OUT_OF_RANGE and
reset as their auto.offset.reset says.

Small segment.bytes make a few KB of records span many segments; a short
log.retention.check.interval.ms makes the broker's retention pass run within the test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition
from kafka.errors import OffsetOutOfRangeError

from tests.support import messages
from tests.support.broker import BrokerFactory, BrokerProcess
from tests.support.wait import wait_until

SEGMENT_BYTES = 1024
VALUE = b"v" * 100


@pytest.fixture
def retention_broker(broker_factory: BrokerFactory) -> BrokerProcess:
    return broker_factory({"log.retention.check.interval.ms": "100"})


def create(broker: BrokerProcess, topic: str, **configs: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    new = NewTopic(topic, 1, 1, config={"segment.bytes": str(SEGMENT_BYTES), **configs})
    admin.create_topics([new])[topic].result(10)


def produce(broker: BrokerProcess, topic: str, count: int, timestamp: int = 0) -> None:
    """One batch per record (flush after each), so segments roll at predictable sizes."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(count):
        producer.produce(topic, value=VALUE, key=b"%d" % i, partition=0, timestamp=timestamp)
        assert producer.flush(10) == 0


def segment_files(broker: BrokerProcess, topic: str) -> list[Path]:
    return sorted((broker.data_dir / f"{topic}-0").glob("*.log"))


def watermarks(broker: BrokerProcess, topic: str) -> tuple[int, int]:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "retention-unused"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        return int(low), int(high)
    finally:
        consumer.close()


def first_record_offset(broker: BrokerProcess, topic: str, reset: str) -> int:
    """Assign at offset 0 (below the log start) and return where the consumer lands."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "retention-unused",
                         "enable.auto.commit": False, "auto.offset.reset": reset})
    consumer.assign([TopicPartition(topic, 0, 0)])
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is None:
                if reset == "latest":  # nothing arrives until something new is written
                    produce(broker, topic, 1)
                continue
            assert msg.error() is None, msg.error()
            return messages.offset(msg)
        raise AssertionError("no record consumed")
    finally:
        consumer.close()


def test_retention_bytes_deletes_old_segments(retention_broker: BrokerProcess) -> None:
    broker = retention_broker
    topic = "by-bytes"
    create(broker, topic, **{"retention.bytes": "3000"})
    produce(broker, topic, 100)
    _low, high = watermarks(broker, topic)
    assert high == 100

    def trimmed() -> bool:
        try:
            return sum(p.stat().st_size for p in segment_files(broker, topic)) <= 3000 + SEGMENT_BYTES
        except FileNotFoundError:  # retention deleted a file between listing and stat
            return False

    wait_until(trimmed, 15, message="retention.bytes to trim the log")
    files = segment_files(broker, topic)
    first_base = int(files[0].stem)
    assert first_base > 0
    low, high = watermarks(broker, topic)
    assert (low, high) == (first_base, 100)
    # Indexes go with their segment.
    assert sorted(p.stem for p in (broker.data_dir / f"{topic}-0").glob("*.index")) == [
        p.stem for p in files]

    # OFFSET_OUT_OF_RANGE itself, as a client without a reset policy sees it.
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                             enable_auto_commit=False, auto_offset_reset="none")
    try:
        tp = KTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        with pytest.raises(OffsetOutOfRangeError):
            for _ in range(50):
                consumer.poll(timeout_ms=200)
    finally:
        consumer.close()
    # And the configured resets.
    assert first_record_offset(broker, topic, "earliest") == low
    assert first_record_offset(broker, topic, "latest") == 100


def test_retention_ms_deletes_expired_segments(retention_broker: BrokerProcess) -> None:
    broker = retention_broker
    topic = "by-time"
    create(broker, topic, **{"retention.ms": "60000"})
    old = int(time.time() * 1000) - 600_000  # ten minutes ago: past retention.ms
    produce(broker, topic, 40, timestamp=old)
    produce(broker, topic, 40)
    # Each one-record batch is over 100 bytes, so a 1 KB segment holds fewer than 10.
    per_segment = SEGMENT_BYTES // len(VALUE)

    # Segments holding only expired records go (retention runs every 100 ms, so some
    # already went while the test was producing); the one where old and new records meet
    # stays, its newest record being recent, so every new record is still readable.
    wait_until(lambda: watermarks(broker, topic)[0] > 40 - per_segment, 15,
               message="retention.ms to delete the expired segments")
    low, high = watermarks(broker, topic)
    assert high == 80
    assert 40 - per_segment < low <= 40
    files = segment_files(broker, topic)
    assert int(files[0].stem) == low
    assert all(int(p.stem) >= low for p in (broker.data_dir / f"{topic}-0").glob("*.timeindex"))
    assert first_record_offset(broker, topic, "earliest") == low


def test_retention_ms_expires_the_whole_log(retention_broker: BrokerProcess) -> None:
    """All records expired: Kafka rolls the active segment so it can delete it too; the
    log is empty, the start offset equals the end offset, and writing continues there."""
    broker = retention_broker
    topic = "all-expired"
    create(broker, topic, **{"retention.ms": "60000"})
    produce(broker, topic, 20, timestamp=int(time.time() * 1000) - 600_000)

    wait_until(lambda: watermarks(broker, topic) == (20, 20), 15, message="every segment to expire")
    assert [int(p.stem) for p in segment_files(broker, topic)] == [20]
    produce(broker, topic, 1)
    assert watermarks(broker, topic) == (20, 21)
    assert first_record_offset(broker, topic, "earliest") == 20
