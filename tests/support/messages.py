"""What a test reads off a confluent-kafka Message, typed.

confluent-kafka declares every field of a Message optional (an error message has none), so
each test that consumes would repeat the same None checks. These say once that a consumed
record (no error) has them, and fail the test loudly if it does not.
"""

from __future__ import annotations

from confluent_kafka import KafkaError, Message


def partition(message: Message) -> int:
    found = message.partition()
    assert found is not None, f"message without a partition: {message.error()}"
    return found


def offset(message: Message) -> int:
    found = message.offset()
    assert found is not None, f"message without an offset: {message.error()}"
    return found


def value(message: Message) -> bytes:
    """The value of a record that has one (tombstones are for `message.value()` directly)."""
    found = message.value()
    assert isinstance(found, bytes), f"expected a value, got {found!r}"
    return found


def headers(message: Message) -> list[tuple[str, bytes | None]]:
    """A consumed record's headers in order (keys may repeat); [] when it has none."""
    raw = message.headers() or []
    assert isinstance(raw, list), f"consumed headers are a list, got {raw!r}"
    return [(key, item.encode() if isinstance(item, str) else item) for key, item in raw]


def error_code(message: Message) -> int:
    error = message.error()
    assert isinstance(error, KafkaError), "expected an error message"
    return int(error.code())
