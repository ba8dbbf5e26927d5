"""A full disk: produce answers KAFKA_STORAGE_ERROR, acknowledged data stays intact,
and the broker keeps serving — on a real, small tmpfs, not a simulated error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support import messages
from tests.support.broker import BrokerProcess
from tests.support.tmpfs import small_tmpfs


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "3m") as mount:
        yield mount


def test_full_disk_answers_storage_error_and_loses_nothing(small_disk: Path) -> None:
    broker = BrokerProcess(small_disk / "logs", log_path=small_disk.parent / "broker.log").start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("fill", 1, 1)])["fill"].result(10)
        acked: list[bytes] = []
        errors: list[KafkaError] = []

        def report(err: KafkaError | None, msg: Message) -> None:
            if err is None:
                acked.append(messages.value(msg))
            else:
                errors.append(err)

        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0,
                             "message.timeout.ms": 4000, "enable.idempotence": False,
                             "retries": 0})
        for i in range(5000):  # ~5 MB into a 3 MB disk
            producer.produce("fill", b"%06d" % i + b"x" * 1000, on_delivery=report)
            producer.poll(0)
        producer.flush(30)
        assert acked, "nothing was accepted before the disk filled"
        assert errors, "a full disk must be reported to the producer"
        assert {e.code() for e in errors} == {KafkaError.KAFKA_STORAGE_ERROR}
        assert broker.alive()

        def read_all() -> list[bytes]:
            consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "g",
                                 "enable.auto.commit": False})
            consumer.assign([TopicPartition("fill", 0, 0)])
            values: list[bytes] = []
            while len(values) < len(acked):
                batch = consumer.consume(1000, 5)
                assert batch, f"stalled at {len(values)} of {len(acked)}"
                values += [messages.value(m) for m in batch if m.error() is None]
            consumer.close()
            return values

        assert read_all() == acked
        broker.kill()
        broker.start()
        assert read_all() == acked
        assert "cut" not in broker.log_tail(200)  # nothing torn was left behind
    finally:
        broker.stop()
