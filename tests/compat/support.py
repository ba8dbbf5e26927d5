"""What every client compatibility test shares: the data set, the checks, the figures.

Each client test produces the same deterministic records and hands back what it read as
`Record` tuples, so "read back exactly" means one comparison here, the same for every
client, instead of four hand-written variants that could drift apart.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

PARTITIONS = 3
COUNT = 100_000
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
# A topic config every client alters and reads back: not a default, so a broker that
# ignored the alter (or reported defaults) would fail the describe check.
ALTERED_CONFIG = ("retention.ms", "123456789")


class Record(NamedTuple):
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp: int


@dataclass
class DataSet:
    """COUNT records spread round-robin over PARTITIONS; record i has timestamp base_ts + i."""

    count: int = COUNT
    partitions: int = PARTITIONS
    base_ts: int = field(default_factory=lambda: int(time.time() * 1000) - 3_600_000)
    _expected: dict[int, list[Record]] | None = field(default=None, repr=False, compare=False)

    def partition_of(self, i: int) -> int:
        return i % self.partitions

    def key(self, i: int) -> bytes:
        return b"key-%06d" % i

    def value(self, i: int) -> bytes:
        # Small and compressible, but not constant: every record is distinguishable.
        return b"value-%06d-%s" % (i, b"abcdefgh"[i % 8 :] * 3)

    def headers(self, i: int) -> tuple[tuple[str, bytes], ...]:
        return (("seq", b"%d" % i), ("origin", b"compat"))

    def timestamp(self, i: int) -> int:
        return self.base_ts + i

    def items(self) -> Iterator[tuple[int, int, bytes, bytes, tuple[tuple[str, bytes], ...], int]]:
        """(i, partition, key, value, headers, timestamp) in produce order."""
        for i in range(self.count):
            yield (i, self.partition_of(i), self.key(i), self.value(i), self.headers(i),
                   self.timestamp(i))

    def expected(self) -> dict[int, list[Record]]:
        """Per partition, in order, with the offsets a fresh topic must assign."""
        if self._expected is None:
            result: dict[int, list[Record]] = {p: [] for p in range(self.partitions)}
            for _i, partition, key, value, headers, ts in self.items():
                records = result[partition]
                records.append(Record(partition, len(records), key, value, headers, ts))
            self._expected = result
        return self._expected

    def per_partition(self) -> dict[int, int]:
        return {p: len(records) for p, records in self.expected().items()}

    def offset_for_time(self, partition: int, ts: int) -> int:
        """The offset ListOffsets(timestamp) must answer: first record with timestamp >= ts."""
        for record in self.expected()[partition]:
            if record.timestamp >= ts:
                return record.offset
        return -1


def check_read_back(data: DataSet, read: list[Record]) -> None:
    """Every record exactly once, in partition order, at the offsets assigned."""
    check_records(data.expected(), read)


def check_records(expected: dict[int, list[Record]], read: list[Record]) -> None:
    got: dict[int, list[Record]] = {p: [] for p in expected}
    for record in read:
        got[record.partition].append(record)
    for partition, want in expected.items():
        have = got[partition]
        assert len(have) == len(want), (
            f"partition {partition}: read {len(have)} records, expected {len(want)}")
        for w, h in zip(want, have, strict=True):
            assert h == w, f"partition {partition}: expected {w}, read {h}"


def check_offsets_for_time(data: DataSet, answers: dict[int, int], ts: int) -> None:
    for partition in range(data.partitions):
        assert answers[partition] == data.offset_for_time(partition, ts), (
            f"offset for timestamp {ts} in partition {partition}: {answers[partition]}")


CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def stored_codecs(data_dir: Path, topic: str, partitions: int = PARTITIONS) -> dict[str, int]:
    """Records on disk per compression codec, read from each batch's header.

    Proves the client really compressed with the codec under test and the broker stored
    the batch as received (a client silently falling back to none would pass otherwise).
    """
    names = {v: k for k, v in CODEC_IDS.items()}
    found: dict[str, int] = {}
    for partition in range(partitions):
        for segment in sorted((data_dir / f"{topic}-{partition}").glob("*.log")):
            raw = segment.read_bytes()
            pos = 0
            while pos + 61 <= len(raw):
                (length,) = struct.unpack_from(">i", raw, pos + 8)
                (attributes,) = struct.unpack_from(">h", raw, pos + 21)
                (count,) = struct.unpack_from(">i", raw, pos + 57)
                codec = names[attributes & 0x7]
                found[codec] = found.get(codec, 0) + count
                pos += 12 + length
    return found


def check_stored_codec(data_dir: Path, topic: str, codec: str, count: int = COUNT) -> None:
    """All records in batches of `codec`, except a few in tiny batches: clients (librdkafka,
    kafka-python) send a batch uncompressed when compressing would not make it smaller."""
    found = stored_codecs(data_dir, topic)
    assert sum(found.values()) == count, found
    if codec == "none":
        assert found == {"none": count}
    else:
        assert set(found) <= {codec, "none"}, found
        assert found.get(codec, 0) >= count * 0.99, found


def topic_name(client: str, codec: str) -> str:
    return f"compat-{client}-{codec}-{int(time.time() * 1000) % 100000}"


class Stopwatch:
    """Phase timings printed with the test output (`pytest -s`), for the runtime figures."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.last = self.start
        self.phases: list[tuple[str, float]] = []

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.phases.append((phase, now - self.last))
        self.last = now

    def report(self) -> str:
        parts = " ".join(f"{name}={secs:.2f}s" for name, secs in self.phases)
        line = f"[{self.label}] total={time.monotonic() - self.start:.2f}s {parts}"
        print(line)
        return line
