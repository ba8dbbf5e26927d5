"""Reading a topic back in tests: every record up to the end, with confluent-kafka."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import Consumer, TopicPartition


def read_topic(bootstrap: str, topic: str, expect: int | None = None,
               timeout: float = 30.0) -> list[tuple[bytes | None, bytes | None]]:
    """All (key, value) pairs of partition 0, waiting until at least `expect` arrived."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        out: list[tuple[bytes | None, bytes | None]] = []
        deadline = time.monotonic() + timeout
        idle_since = time.monotonic()
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                if expect is None and time.monotonic() - idle_since > 2:
                    break
                if expect is not None and len(out) >= expect and time.monotonic() - idle_since > 1:
                    break
                continue
            idle_since = time.monotonic()
            out.append((message.key(), message.value()))
        return out
    finally:
        consumer.close()
