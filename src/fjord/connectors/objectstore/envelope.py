"""The backup envelope: one Kafka record exactly as it was in its partition.

Everything a restore needs to put the record back unchanged is kept, as raw bytes: key,
value (either may be null, which is not the same as empty), headers (ordered, repeatable,
values nullable), timestamp and its type, and the partition and offset it had. Nothing is
decoded or re-encoded through a converter, so a backup is byte-exact whatever the payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CREATE_TIME = "CreateTime"
LOG_APPEND_TIME = "LogAppendTime"
NO_TIMESTAMP_TYPE = "NoTimestampType"
TIMESTAMP_TYPES = (CREATE_TIME, LOG_APPEND_TIME, NO_TIMESTAMP_TYPE)

Headers = list[tuple[str, bytes | None]]


@dataclass
class BackupRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int | None
    timestamp_type: str = CREATE_TIME
    key: bytes | None = None
    value: bytes | None = None
    headers: Headers = field(default_factory=list)

    def approximate_size(self) -> int:
        """Payload bytes, for rotation by size and the byte counts of a run."""
        size = len(self.key or b"") + len(self.value or b"")
        for name, data in self.headers:
            size += len(name) + len(data or b"")
        return size
