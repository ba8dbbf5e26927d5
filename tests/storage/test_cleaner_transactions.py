"""Property: whatever mix of plain writes, committed, aborted and still-open transactions,
cleaner runs and restarts (clean or crash) happens, a read_committed reader of the real
PartitionLog sees exactly "the latest committed value of every key" below the LSO.

The reader is written the way clients read (librdkafka's and the Java consumer's aborted-
transaction filter over a Fetch answer), so the property covers what a consumer gets, not
the cleaner's internals.
"""

from __future__ import annotations

import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fjord.protocol.records import (
    CONTROL_ABORT,
    control_batch,
    control_type,
    iter_records,
    read_header,
    split_batches,
)
from fjord.storage import cleaner
from fjord.storage.log import LogConfig, PartitionLog
from tests.support.batches import make_batch

KEYS = [b"k0", b"k1", b"k2", b"k3"]
PRODUCERS = [11, 12, 13]
_OFFSET = struct.Struct(">q")

# One step of the history. ("plain", key, value?), ("txn", pid, key, value?),
# ("end", pid, commit), ("clean", delete_retention_ms), ("restart", crash), ("roll",)
Op = tuple[object, ...]

op = st.one_of(
    st.tuples(st.just("plain"), st.sampled_from(KEYS), st.booleans()),
    st.tuples(st.just("txn"), st.sampled_from(PRODUCERS), st.sampled_from(KEYS), st.booleans()),
    st.tuples(st.just("end"), st.sampled_from(PRODUCERS), st.booleans()),
    st.tuples(st.just("clean"), st.sampled_from([0, 10**9])),
    st.tuples(st.just("restart"), st.booleans()),
    st.tuples(st.just("roll")),
)


@dataclass
class Model:
    """Every record ever written: (offset, key, value, producer id or None, txn number)."""

    records: list[tuple[int, bytes, bytes | None, int | None, int]] = field(default_factory=list)
    open_txn: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid -> (txn no, first)
    outcome: dict[int, bool] = field(default_factory=dict)  # txn no -> committed
    sequences: dict[int, int] = field(default_factory=dict)
    txn_numbers: int = 0

    def lso(self, high_watermark: int) -> int:
        return min((first for _n, first in self.open_txn.values()), default=high_watermark)

    def latest_committed(self, lso: int) -> dict[bytes, bytes | None]:
        latest: dict[bytes, bytes | None] = {}
        for offset, key, value, pid, txn in self.records:
            if offset >= lso:
                break
            if pid is None or self.outcome.get(txn):
                latest[key] = value
        return latest

    def committed_values(self) -> set[bytes | None]:
        return {value for _o, _k, value, pid, txn in self.records
                if pid is None or self.outcome.get(txn)}


def read_committed(plog: PartitionLog) -> list[tuple[int, bytes, bytes | None]]:
    """What a read_committed consumer gets from log start to the LSO, fetch by fetch."""
    lso = plog.last_stable_offset
    aborted = sorted(plog.aborted_transactions(plog.log_start_offset, lso), key=lambda a: a[1])
    skipping: set[int] = set()
    out: list[tuple[int, bytes, bytes | None]] = []
    offset = plog.log_start_offset
    while offset < lso:
        data = plog.read(offset, 300, max_offset=lso).data
        if not data:
            break
        data = bytes(data)
        pos = 0
        while pos < len(data):
            header = read_header(data, pos)
            while aborted and aborted[0][1] <= header.last_offset:
                skipping.add(aborted.pop(0)[0])
            batch = data[pos : pos + header.length]
            if header.is_control:
                if control_type(batch) == CONTROL_ABORT:
                    skipping.discard(header.producer_id)
            elif not (header.is_transactional and header.producer_id in skipping):
                out += [(r.offset, r.key or b"", r.value) for r in iter_records(batch)]
            offset = header.last_offset + 1
            pos += header.length
    return out


class Harness:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = LogConfig(segment_bytes=250, compact=True, delete=False,
                                delete_retention_ms=10**9)
        self.plog = PartitionLog.open(directory, "t", 0, self.config, True)
        self.model = Model()
        self.now = 1_000_000
        self.values = 0

    def _value(self, tombstone: bool) -> bytes | None:
        self.values += 1
        return None if tombstone else b"v%d" % self.values

    def _append(self, batch: bytes) -> int:
        self.now += 1
        base, _ = self.plog.append(batch, split_batches(batch), self.now)
        return base

    def apply(self, step: Op) -> None:
        kind = step[0]
        model = self.model
        if kind == "plain":
            key, tombstone = step[1], step[2]
            assert isinstance(key, bytes) and isinstance(tombstone, bool)
            value = self._value(tombstone)
            offset = self._append(make_batch([(key, value)], timestamp=self.now))
            model.records.append((offset, key, value, None, -1))
        elif kind == "txn":
            pid, key, tombstone = step[1], step[2], step[3]
            assert isinstance(pid, int) and isinstance(key, bytes) and isinstance(tombstone, bool)
            value = self._value(tombstone)
            sequence = model.sequences.get(pid, 0)
            offset = self._append(make_batch([(key, value)], timestamp=self.now, producer_id=pid,
                                             producer_epoch=0, base_sequence=sequence,
                                             transactional=True))
            model.sequences[pid] = sequence + 1
            if pid not in model.open_txn:
                model.txn_numbers += 1
                model.open_txn[pid] = (model.txn_numbers, offset)
            model.records.append((offset, key, value, pid, model.open_txn[pid][0]))
        elif kind == "end":
            pid, commit = step[1], step[2]
            assert isinstance(pid, int) and isinstance(commit, bool)
            if pid in model.open_txn:
                txn, _first = model.open_txn.pop(pid)
                model.outcome[txn] = commit
                self._append(control_batch(pid, 0, commit, self.now))
        elif kind == "clean":
            retention = step[1]
            assert isinstance(retention, int)
            planned = cleaner.plan(cleaner.snapshot(self.plog), self.now + 10, retention, 0)
            if planned is not None:
                assert cleaner.swap(planned)
        elif kind == "restart":
            crash = step[1]
            if crash:  # kill -9: no final snapshot, no clean-shutdown marker
                self.plog.detach()
            else:
                self.plog.close()
            self.plog = PartitionLog.open(self.directory, "t", 0, self.config, not crash)
        elif kind == "roll":
            self.plog.roll()

    def check(self) -> None:
        plog, model = self.plog, self.model
        lso = model.lso(plog.high_watermark)
        assert plog.last_stable_offset == lso
        seen = read_committed(plog)
        offsets = [offset for offset, _k, _v in seen]
        assert offsets == sorted(set(offsets))
        assert all(offset < lso for offset in offsets)
        committed = model.committed_values()
        assert all(value in committed for _o, _k, value in seen), "an uncommitted value is visible"
        got: dict[bytes, bytes | None] = {}
        for _offset, key, value in seen:
            got[key] = value
        expected = model.latest_committed(lso)
        # A tombstone removed after delete.retention.ms and a tombstone still present both
        # mean "no value": compare with tombstones and absent keys as the same thing.
        assert {k: v for k, v in got.items() if v is not None} == \
               {k: v for k, v in expected.items() if v is not None}


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(op, min_size=1, max_size=60))
def test_read_committed_sees_latest_committed_value_per_key(steps: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        harness = Harness(Path(tmp) / "t-0")
        try:
            for step in steps:
                harness.apply(step)
                harness.check()
        finally:
            harness.plog.detach()


def test_open_transaction_never_shadows_the_committed_value(tmp_path: Path) -> None:
    """The scenario of issue 8: k=committed at 0, filler, an open transaction writes k, the
    cleaner runs, the transaction aborts; k=committed must still be there."""
    harness = Harness(tmp_path / "t-0")
    harness.apply(("plain", b"k0", False))
    for _ in range(30):
        harness.apply(("plain", b"k1", False))
    harness.apply(("txn", 11, b"k0", False))
    for _ in range(10):
        harness.apply(("plain", b"k2", False))
    harness.apply(("clean", 0))
    harness.apply(("end", 11, False))
    harness.apply(("clean", 0))
    harness.check()
    assert {k: v for _o, k, v in read_committed(harness.plog)}[b"k0"] == b"v1"
    harness.plog.detach()
