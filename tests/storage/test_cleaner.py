"""Compaction keeps the newest record per key, keeps offsets, and expires tombstones."""

from __future__ import annotations

from pathlib import Path

from fjord.protocol.records import iter_records, read_header, split_batches
from fjord.storage import cleaner
from fjord.storage.log import LogConfig, PartitionLog
from tests.support.batches import make_batch


def _log(path: Path) -> PartitionLog:
    config = LogConfig(segment_bytes=400, compact=True, delete=False, delete_retention_ms=1000)
    return PartitionLog.open(path, "c", 0, config, True)


def _put(plog: PartitionLog, key: bytes, value: bytes | None, ts: int) -> None:
    batch = make_batch([(key, value)], timestamp=ts)
    plog.append(batch, split_batches(batch), ts)


def _contents(plog: PartitionLog) -> list[tuple[int, bytes | None, bytes | None]]:
    out = []
    for segment in plog.segments:
        for pos, header in segment.iter_headers():
            data = segment.read(pos, header.length)
            assert read_header(data).length == header.length
            out += [(r.offset, r.key, r.value) for r in iter_records(data)]
    return out


def test_compaction_keeps_latest_per_key_and_offsets(tmp_path: Path) -> None:
    plog = _log(tmp_path / "c-0")
    for round_ in range(5):
        for key in (b"a", b"b", b"c"):
            _put(plog, key, b"%s%d" % (key, round_), ts=1000 + round_)
    _put(plog, b"b", None, ts=2000)  # tombstone for b
    _put(plog, b"z", b"tail", ts=2001)
    assert len(plog.segments) > 2
    planned = cleaner.plan(plog, now_ms=2500, delete_retention_ms=10_000, min_lag_ms=0)
    assert planned is not None and cleaner.swap(planned)
    records = _contents(plog)
    offsets = [o for o, _k, _v in records]
    assert offsets == sorted(offsets)
    latest = {k: (o, v) for o, k, v in records}
    assert latest[b"a"] == (12, b"a4") and latest[b"c"] == (14, b"c4")
    assert latest[b"b"] == (15, None)  # tombstone still within delete.retention.ms
    assert [k for _o, k, _v in records].count(b"a") == 1
    assert plog.high_watermark == 17
    # Reads still work by offset across the gaps compaction left.
    assert plog.read(3, 10_000).data


def test_tombstones_expire_after_delete_retention(tmp_path: Path) -> None:
    plog = _log(tmp_path / "c-0")
    for i in range(6):
        _put(plog, b"k%d" % i, b"v" * 50, ts=1000)
    for i in range(6):
        _put(plog, b"k%d" % i, None, ts=1000)
    _put(plog, b"live", b"x" * 200, ts=1000)
    _put(plog, b"live2", b"x" * 200, ts=1000)
    planned = cleaner.plan(plog, now_ms=100_000, delete_retention_ms=1000, min_lag_ms=0)
    assert planned is not None and cleaner.swap(planned)
    keys = [k for _o, k, _v in _contents(plog)]
    assert not any(k.startswith(b"k") for k in keys if k)


def test_min_compaction_lag_leaves_recent_segments(tmp_path: Path) -> None:
    plog = _log(tmp_path / "c-0")
    for i in range(20):
        _put(plog, b"same", b"v%d" % i, ts=1000)
    assert cleaner.plan(plog, now_ms=1500, delete_retention_ms=0, min_lag_ms=10_000) is None
