"""MSK's monitoring levels: each one adds series to the one before, so 10,000 partitions
cost a scrape only when PER_TOPIC_PER_PARTITION is asked for."""

from __future__ import annotations

DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER, PER_TOPIC_PER_PARTITION = (
    "DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")
LEVELS = (DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER, PER_TOPIC_PER_PARTITION)


def rank(level: str) -> int:
    return LEVELS.index(level.upper()) if level.upper() in LEVELS else 0


def check_level(value: str) -> str | None:
    return None if value.upper() in LEVELS else f"must be one of {', '.join(LEVELS)}"
