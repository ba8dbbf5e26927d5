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
    planned = cleaner.plan(cleaner.snapshot(plog), now_ms=2500, delete_retention_ms=10_000, min_lag_ms=0)
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
    planned = cleaner.plan(cleaner.snapshot(plog), now_ms=100_000, delete_retention_ms=1000, min_lag_ms=0)
    assert planned is not None and cleaner.swap(planned)
    keys = [k for _o, k, _v in _contents(plog)]
    assert not any(k.startswith(b"k") for k in keys if k)


def test_min_compaction_lag_leaves_recent_segments(tmp_path: Path) -> None:
    plog = _log(tmp_path / "c-0")
    for i in range(20):
        _put(plog, b"same", b"v%d" % i, ts=1000)
    assert cleaner.plan(cleaner.snapshot(plog), now_ms=1500, delete_retention_ms=0, min_lag_ms=10_000) is None


def test_compaction_respects_transactions(tmp_path: Path) -> None:
    from fjord.protocol.records import control_batch

    plog = _log(tmp_path / "c-0")

    def txn(key: bytes, value: bytes, pid: int, commit: bool | None, ts: int) -> None:
        batch = make_batch([(key, value)], timestamp=ts, producer_id=pid, producer_epoch=0,
                           base_sequence=0, transactional=True)
        plog.append(batch, split_batches(batch), ts)
        if commit is not None:
            marker = control_batch(pid, 0, commit=commit, timestamp=ts)
            plog.append(marker, split_batches(marker), ts)

    _put(plog, b"k", b"committed-plain", ts=1000)
    txn(b"k", b"committed-txn", pid=1, commit=True, ts=1001)
    txn(b"k", b"aborted-txn", pid=2, commit=False, ts=1002)
    for i in range(30):
        _put(plog, b"filler-%d" % i, b"x" * 20, ts=1003)
    planned = cleaner.plan(cleaner.snapshot(plog), now_ms=5000, delete_retention_ms=10_000,
                           min_lag_ms=0)
    assert planned is not None and cleaner.swap(planned)
    values = {v for _o, k, v in _contents(plog) if k == b"k"}
    # The aborted write neither survives nor displaces the last committed value.
    assert values == {b"committed-txn"}
    headers = [h for s in plog.segments for _p, h in s.iter_headers()]
    assert sum(1 for h in headers if h.is_control) == 2  # markers are kept
    kept = [h for h in headers if h.is_transactional and not h.is_control]
    assert [h.producer_id for h in kept] == [1]  # producer id survives the rewrite


def test_open_transactions_are_not_compacted(tmp_path: Path) -> None:
    plog = _log(tmp_path / "c-0")
    batch = make_batch([(b"k", b"open")], timestamp=1000, producer_id=9, producer_epoch=0,
                       base_sequence=0, transactional=True)
    plog.append(batch, split_batches(batch), 1000)
    for i in range(30):
        _put(plog, b"k", b"later-%d" % i, ts=1001)
    assert cleaner.plan(cleaner.snapshot(plog), now_ms=5000, delete_retention_ms=0,
                        min_lag_ms=0) is None


def test_max_compaction_lag_makes_a_clean_log_due(tmp_path: Path) -> None:
    """Below min.cleanable.dirty.ratio a log is still cleaned once a dirty record has waited
    max.compaction.lag.ms (KIP-354); the active segment also rolls by that lag."""
    config = LogConfig(segment_bytes=400, compact=True, delete=False, min_cleanable_ratio=0.99,
                       max_compaction_lag_ms=5_000, segment_ms=10**9)
    plog = PartitionLog.open(tmp_path / "c-0", "c", 0, config, True)
    for i in range(40):
        _put(plog, b"k%d" % i, b"v" * 40, ts=1000)
    planned = cleaner.plan(cleaner.snapshot(plog), now_ms=2000, delete_retention_ms=0, min_lag_ms=0)
    assert planned is not None and cleaner.swap(planned)
    cleaned_upto = planned.segments[-1].next_offset
    for i in range(6):
        _put(plog, b"k%d" % i, b"w" * 40, ts=1000)
    assert 0 < cleaner.dirty_ratio(plog, cleaned_upto) < 0.99
    assert not cleaner.due(plog, cleaned_upto, now_ms=1000 + 4_000)
    assert cleaner.due(plog, cleaned_upto, now_ms=1000 + 6_000)
    assert config.roll_ms == 5_000
    segments = len(plog.segments)
    _put(plog, b"k1", b"late", ts=1000 + 6_000)
    assert len(plog.segments) == segments + 1
