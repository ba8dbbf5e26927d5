"""Kafka's offset checkpoint files (`log-start-offset-checkpoint`,
`recovery-point-offset-checkpoint`): a version line, a count line, then one
`topic partition offset` line per partition, so Kafka's tools and an operator read them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fjord.fsutil import atomic_write

LOG_START = "log-start-offset-checkpoint"
RECOVERY_POINT = "recovery-point-offset-checkpoint"


def read_checkpoint(path: Path) -> dict[tuple[str, int], int]:
    """Entries of one checkpoint file; a missing or malformed file reads as empty (the
    caller then falls back to the safe side: scanning, or the first segment's base)."""
    try:
        lines = path.read_text().splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return {}
    if len(lines) < 2 or lines[0].strip() != "0":
        return {}
    entries: dict[tuple[str, int], int] = {}
    for line in lines[2:]:
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].lstrip("-").isdigit():
            entries[(parts[0], int(parts[1]))] = int(parts[2])
    return entries


def write_checkpoint(path: Path, entries: Iterable[tuple[str, int, int]]) -> None:
    rows = [f"{topic} {partition} {offset}" for topic, partition, offset in entries]
    atomic_write(path, "\n".join(["0", str(len(rows)), *rows]) + "\n")
