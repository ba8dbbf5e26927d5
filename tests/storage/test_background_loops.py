"""Every background loop of a real broker survives a failure: a fault injected into each
(the FJORD_FAULT_INJECT test hook) is logged with its stack, counted, retried with
backoff, and the loop recovers and goes on doing its job."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support import messages
from tests.support.broker import BrokerProcess
from tests.support.wait import wait_until

LOOPS = ["retention", "flush", "cleaner", "recovery-checkpoint", "delete-dirs", "group-sweep",
         "offsets-retention", "transactions", "storage-alerts"]


def test_a_fault_in_each_loop_is_logged_with_its_stack_and_the_loop_recovers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    broker = BrokerProcess(data, {
        "log.retention.check.interval.ms": "200",
        "log.cleaner.backoff.ms": "200",
        "log.flush.offset.checkpoint.interval.ms": "200",
        "log.segment.delete.delay.ms": "200",
        "offsets.retention.check.interval.ms": "200",
        "storage.alert.check.interval.ms": "200",
    }, env={"FJORD_FAULT_INJECT": ",".join(f"{name}:2" for name in LOOPS)}).start()
    try:
        def log() -> str:
            return broker.log_path.read_text()

        wait_until(lambda: all(f"background loop {name} recovered after 2 failure(s)" in log()
                               for name in LOOPS),
                   timeout=90, message="every loop to recover")
        text = log()
        for name in LOOPS:
            failure = f"background loop {name} failed (1 in a row)"
            assert failure in text, name
            after = text[text.index(failure):]
            assert "Traceback (most recent call last)" in after.split("background loop")[1], name
            assert f"InjectedFault: fault injected into {name}" in after, name
        assert "is broken" not in text and "unknown loops" not in text

        # The loops do their jobs afterwards: the broker serves, checkpoints and deletes.
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for topic in ("kept", "gone"):
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)
        producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
        producer.produce("kept", value=b"after the faults")
        assert producer.flush(15) == 0
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "loops"})
        try:
            consumer.assign([TopicPartition("kept", 0, 0)])
            got: list[bytes] = []
            def read() -> list[bytes]:
                got.extend(messages.value(m) for m in consumer.consume(10, 0.2) if m.error() is None)
                return got

            wait_until(read, message="the record back")
            assert got == [b"after the faults"]
        finally:
            consumer.close()
        admin.delete_topics(["gone"])["gone"].result(15)
        wait_until(lambda: not list(data.glob("gone-*")), message="the deleted topic's dirs removed")
        wait_until(lambda: "kept 0 1" in (data / "recovery-point-offset-checkpoint").read_text()
                   or "kept 0 0" in (data / "recovery-point-offset-checkpoint").read_text(),
                   message="the recovery point checkpointed")
    finally:
        assert broker.stop() == 0
    assert broker.log_path.read_text().strip().splitlines()[-1].endswith("broker stopped cleanly")
