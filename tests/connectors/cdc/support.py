"""Reading Debezium change events back from a topic, and judging a stream against what was
committed: nothing lost, commit order kept, and repeats only as replays."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, TopicPartition


@dataclass(frozen=True)
class Event:
    op: str | None  # None: tombstone
    key: Any
    before: Any
    after: Any
    source: Any

    @property
    def identity(self) -> tuple[Any, ...]:
        """What makes one change unique: where it sits in the log, what it did, to which row."""
        src = self.source or {}
        return (src.get("lsn"), src.get("txId"), src.get("pos"), src.get("row"), self.op,
                json.dumps(self.key, sort_keys=True))


def _payload(raw: bytes | None) -> Any:
    if raw is None:
        return None
    doc = json.loads(raw)
    return doc["payload"] if isinstance(doc, dict) and set(doc) == {"schema", "payload"} else doc


def read_events(bootstrap: str, topic: str, until: int, timeout: float = 90.0) -> list[Event]:
    """Every event of partition 0 of `topic`, waiting until at least `until` arrived."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, 0, 0)])
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                if len(events) >= until and time.monotonic() - quiet_since > 1.5:
                    break
                continue
            quiet_since = time.monotonic()
            value = _payload(message.value())
            key = _payload(message.key())
            if value is None:
                events.append(Event(None, key, None, None, None))
            else:
                events.append(Event(value["op"], key, value["before"], value["after"],
                                    value["source"]))
    finally:
        consumer.close()
    if len(events) < until:
        raise AssertionError(f"only {len(events)} of {until} events arrived in {topic}")
    return events


def dedupe(events: list[Event]) -> tuple[list[Event], int]:
    """Events in first-seen order without repeats, and how many repeats there were."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Event] = []
    for event in events:
        if event.op is None:
            continue
        if event.identity in seen:
            continue
        seen.add(event.identity)
        out.append(event)
    changes = sum(1 for e in events if e.op is not None)
    return out, changes - len(out)
