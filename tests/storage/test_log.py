"""The partition log against real files: offsets, reads, rolls, recovery, retention."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from fjord.protocol.records import iter_records, read_header, split_batches
from fjord.storage.log import LogConfig, OffsetOutOfRange, PartitionLog
from fjord.storage.producer_state import DuplicateSequence, OutOfOrderSequence, ProducerFenced
from fjord.storage.segment import Segment
from tests.support.batches import make_batch


def _append(plog: PartitionLog, batch: bytes, now: int = 0) -> int:
    headers = split_batches(batch)
    plog.producers.check(headers[0])
    base, _ = plog.append(batch, headers, now)
    return base


def _offsets(plog: PartitionLog, start: int = 0) -> list[int]:
    """Every record offset readable from `start`, walking batch by batch."""
    found: list[int] = []
    offset = start
    while offset < plog.high_watermark:
        data = bytes(plog.read(offset, 1 << 20).data)
        pos = 0
        while pos < len(data):
            found += [r.offset for r in iter_records(data, pos) if r.offset >= offset]
            pos += read_header(data, pos).length
        offset = found[-1] + 1
    return found


def _open(path: Path, clean: bool = True, **config: Any) -> PartitionLog:
    return PartitionLog.open(path, "t", 0, LogConfig(**config), clean)


def test_offsets_are_assigned_contiguously_and_read_back(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    bases = [_append(plog, make_batch([(b"k", b"v%d" % i) for i in range(n)])) for n in (1, 5, 3)]
    assert bases == [0, 1, 6]
    assert plog.high_watermark == 9
    assert _offsets(plog) == list(range(9))
    assert _offsets(plog, 4) == list(range(4, 9))
    with pytest.raises(OffsetOutOfRange):
        plog.read(10, 1000)
    assert plog.read(9, 1000).data == b""


def test_read_returns_whole_batches_and_at_least_one(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    batch = make_batch([(None, b"x" * 1000)])
    for _ in range(5):
        _append(plog, batch)
    assert len(plog.read(0, len(batch) * 2 + 10).data) == len(batch) * 2
    assert len(plog.read(0, 10).data) == len(batch)  # KIP-74: first batch even if too big


def test_segments_roll_by_size_with_kafka_file_names(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=3000)
    for _ in range(10):
        _append(plog, make_batch([(None, b"y" * 1000)]))
    logs = sorted(p.name for p in (tmp_path / "t-0").glob("*.log"))
    assert len(logs) >= 4
    assert logs[0] == "00000000000000000000.log"
    assert all(len(Path(n).stem) == 20 for n in logs)
    assert (tmp_path / "t-0" / logs[1].replace(".log", ".index")).exists()
    assert _offsets(plog) == list(range(10))


def test_torn_tail_is_cut_on_unclean_open(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    for i in range(4):
        _append(plog, make_batch([(b"k", b"v%d" % i)] * 3))
    good_size = plog.active.size
    # A crash in the middle of the next write leaves half a batch behind.
    half = make_batch([(b"k", b"torn")] * 3)[:40]
    with open(plog.active.log_path, "ab") as handle:
        handle.write(half)
    reopened = _open(tmp_path / "t-0", clean=False)
    assert reopened.active.size == good_size
    assert reopened.high_watermark == 12
    assert _append(reopened, make_batch([(b"k", b"after")])) == 12
    assert _offsets(reopened) == list(range(13))


def test_corrupt_batch_in_tail_is_cut(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    _append(plog, make_batch([(b"a", b"1")]))
    _append(plog, make_batch([(b"b", b"2")]))
    with open(plog.active.log_path, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        handle.write(b"\xff")  # flip the last byte: CRC no longer matches
    reopened = _open(tmp_path / "t-0", clean=False)
    assert reopened.high_watermark == 1


def test_retention_by_bytes_moves_log_start(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=2500, retention_bytes=3000)
    for _ in range(12):
        _append(plog, make_batch([(None, b"z" * 1000)]))
    deleted = plog.apply_retention(now_ms=0)
    assert deleted > 0
    assert plog.log_start_offset > 0
    assert plog.size - plog.segments[0].size < 3000
    with pytest.raises(OffsetOutOfRange):
        plog.read(0, 100)
    assert _offsets(plog, plog.log_start_offset)[0] == plog.log_start_offset


def test_retention_by_time_expires_even_the_active_segment(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", retention_ms=1000)
    _append(plog, make_batch([(None, b"old")], timestamp=1_000))
    assert plog.apply_retention(now_ms=1_500) == 0
    assert plog.apply_retention(now_ms=10_000) == 1
    assert plog.log_start_offset == 1 and plog.high_watermark == 1
    assert _append(plog, make_batch([(None, b"new")])) == 1


def test_timestamp_lookup_finds_first_record_at_or_after(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", index_interval=1)
    _append(plog, make_batch([(None, b"a")] * 3, timestamp=100))  # ts 100,101,102
    _append(plog, make_batch([(None, b"b")] * 3, timestamp=200))  # ts 200,201,202
    assert plog.offset_for_timestamp(101) == (1, 101)
    assert plog.offset_for_timestamp(150) == (3, 200)
    assert plog.offset_for_timestamp(202) == (5, 202)
    assert plog.offset_for_timestamp(300) is None
    assert plog.max_timestamp_offset() == (5, 202)


def test_idempotent_producer_checks(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    first = make_batch([(None, b"1")] * 2, producer_id=7, producer_epoch=0, base_sequence=0)
    assert _append(plog, first) == 0
    with pytest.raises(DuplicateSequence) as dup:
        _append(plog, first)
    assert dup.value.base_offset == 0
    with pytest.raises(OutOfOrderSequence):
        _append(plog, make_batch([(None, b"gap")], producer_id=7, producer_epoch=0, base_sequence=5))
    assert _append(plog, make_batch([(None, b"3")], producer_id=7, producer_epoch=0,
                                    base_sequence=2)) == 2
    assert _append(plog, make_batch([(None, b"e1")], producer_id=7, producer_epoch=1,
                                    base_sequence=0)) == 3
    with pytest.raises(ProducerFenced):
        _append(plog, make_batch([(None, b"old")], producer_id=7, producer_epoch=0, base_sequence=3))


@pytest.mark.parametrize("clean", [True, False])
def test_producer_state_survives_reopen(tmp_path: Path, clean: bool) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=200)
    for seq in range(6):
        _append(plog, make_batch([(None, b"p%d" % seq)], producer_id=9, producer_epoch=0,
                                 base_sequence=seq))
    if clean:
        plog.close()
    reopened = _open(tmp_path / "t-0", clean=clean, segment_bytes=200)
    with pytest.raises(DuplicateSequence):
        _append(reopened, make_batch([(None, b"p5")], producer_id=9, producer_epoch=0,
                                     base_sequence=5))
    with pytest.raises(OutOfOrderSequence):
        _append(reopened, make_batch([(None, b"p8")], producer_id=9, producer_epoch=0,
                                     base_sequence=8))
    assert _append(reopened, make_batch([(None, b"p6")], producer_id=9, producer_epoch=0,
                                        base_sequence=6)) == 6


def test_clean_reopen_trusts_indexes_and_keeps_data(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=1500, index_interval=1)
    for i in range(10):
        _append(plog, make_batch([(b"k%d" % i, b"v" * 500)]))
    segments = len(plog.segments)
    plog.close()
    reopened = _open(tmp_path / "t-0", segment_bytes=1500, index_interval=1)
    assert reopened.high_watermark == 10
    assert _offsets(reopened, 7) == [7, 8, 9]
    assert len(reopened.segments) == segments


@pytest.mark.parametrize("clean", [True, False])
def test_transaction_state_is_rebuilt_on_reopen(tmp_path: Path, clean: bool) -> None:
    from fjord.protocol.records import control_batch

    plog = _open(tmp_path / "t-0")
    _append(plog, make_batch([(None, b"plain")]))
    _append(plog, make_batch([(None, b"t1")] * 2, producer_id=5, producer_epoch=0,
                             base_sequence=0, transactional=True))
    assert plog.last_stable_offset == 1 and plog.high_watermark == 3
    abort = control_batch(5, 0, commit=False, timestamp=0)
    plog.append(abort, split_batches(abort), 0)
    _append(plog, make_batch([(None, b"t2")], producer_id=6, producer_epoch=0,
                             base_sequence=0, transactional=True))
    assert plog.last_stable_offset == 4
    assert plog.aborted_transactions(0, 10) == [(5, 1)]
    assert plog.read(0, 10_000, max_offset=plog.last_stable_offset).data
    if clean:
        plog.close()
    reopened = _open(tmp_path / "t-0", clean=clean)
    assert reopened.last_stable_offset == 4
    assert reopened.aborted_transactions(0, 10) == [(5, 1)]
    assert reopened.aborted_transactions(4, 10) == []
    commit = control_batch(6, 0, commit=True, timestamp=0)
    reopened.append(commit, split_batches(commit), 0)
    assert reopened.last_stable_offset == reopened.high_watermark == 6


def test_marker_at_a_newer_epoch_fences_late_batches(tmp_path: Path) -> None:
    from fjord.protocol.records import control_batch

    plog = _open(tmp_path / "t-0")
    _append(plog, make_batch([(None, b"t")], producer_id=8, producer_epoch=0, base_sequence=0,
                             transactional=True))
    abort = control_batch(8, 1, commit=False, timestamp=0)  # written by a fencing InitProducerId
    plog.append(abort, split_batches(abort), 0)
    with pytest.raises(ProducerFenced):
        _append(plog, make_batch([(None, b"zombie")], producer_id=8, producer_epoch=0,
                                 base_sequence=1, transactional=True))
    assert plog.last_stable_offset == plog.high_watermark


def test_every_batch_of_a_request_is_sequence_checked(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    first = make_batch([(None, b"a")] * 2, producer_id=3, producer_epoch=0, base_sequence=0)
    gap = make_batch([(None, b"b")], producer_id=3, producer_epoch=0, base_sequence=5)
    with pytest.raises(OutOfOrderSequence):
        plog.producers.check_all(split_batches(first + gap))
    follow = make_batch([(None, b"b")], producer_id=3, producer_epoch=0, base_sequence=2)
    plog.producers.check_all(split_batches(first + follow))


def test_huge_offset_deltas_roll_segments_instead_of_overflowing_the_index(tmp_path: Path) -> None:
    import struct

    import crc32c

    plog = _open(tmp_path / "t-0")
    batch = bytearray(make_batch([(None, b"x")]))
    struct.pack_into(">i", batch, 23, 2**31 - 2)  # lastOffsetDelta: as a compressed batch may claim
    struct.pack_into(">i", batch, 57, 2**31 - 1)  # record count
    struct.pack_into(">I", batch, 17, crc32c.crc32c(bytes(batch[21:])))
    for _ in range(3):
        plog.append(bytes(batch), [read_header(batch)], 0)
    assert plog.high_watermark == 3 * (2**31 - 1)
    assert len(plog.segments) == 3
    assert all(s.next_offset - s.base_offset <= 2**31 - 1 for s in plog.segments)
    reopened = _open(tmp_path / "t-0", clean=False)
    assert reopened.high_watermark == 3 * (2**31 - 1)


def test_a_request_with_more_batches_than_writev_takes(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0")
    many = b"".join(make_batch([(None, b"v%d" % i)]) for i in range(700))
    base, _ = plog.append(many, split_batches(many), 0)
    assert base == 0 and plog.high_watermark == 700
    assert _offsets(plog) == list(range(700))


def test_unclean_open_scans_only_segments_past_the_recovery_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=400)
    for i in range(30):
        _append(plog, make_batch([(b"k", b"value-%03d" % i)] * 2))
    # Without an event loop each roll fsyncs inline, so the recovery point follows the rolls.
    bases = [s.base_offset for s in plog.segments]
    assert len(bases) > 4 and plog.recovery_point == bases[-1]
    half = make_batch([(b"k", b"torn")] * 3)[:40]
    with open(plog.active.log_path, "ab") as handle:
        handle.write(half)  # a crash mid-write in the active segment
    scanned: list[int] = []
    original = Segment.recover

    def spy(segment: Segment) -> int:
        scanned.append(segment.base_offset)
        return original(segment)

    monkeypatch.setattr(Segment, "recover", spy)
    reopened = PartitionLog.open(tmp_path / "t-0", "t", 0, LogConfig(segment_bytes=400), False,
                                 recovery_point=bases[3])
    assert scanned == bases[3:]  # segments ending at or below the recovery point are trusted
    assert reopened.high_watermark == 60 and _offsets(reopened) == list(range(60))
    scanned.clear()
    PartitionLog.open(tmp_path / "t-0", "t", 0, LogConfig(segment_bytes=400), False)
    assert scanned == bases  # no recovery point: everything is scanned


def test_retention_renames_segments_and_removes_them_after_file_delete_delay(tmp_path: Path) -> None:
    plog = _open(tmp_path / "t-0", segment_bytes=2500, retention_bytes=3000,
                 file_delete_delay_ms=60000)
    for _ in range(12):
        _append(plog, make_batch([(None, b"z" * 1000)]))
    before = list(plog.segments)
    assert plog.apply_retention(0) > 0
    gone = [s.log_path for s in before if s not in plog.segments]
    assert gone
    for path in gone:
        assert not path.exists() and path.with_name(path.name + ".deleted").exists()
    assert plog.delete_due_files(time.monotonic()) == 0  # not yet: the delay runs
    assert plog.delete_due_files(time.monotonic() + 61) >= len(gone)
    assert not list((tmp_path / "t-0").glob("*.deleted"))
    assert _offsets(plog, plog.log_start_offset)[0] == plog.log_start_offset


def test_segment_rolls_when_its_index_is_full(tmp_path: Path) -> None:
    """segment.index.bytes: Kafka rolls a segment whose .index or .timeindex is full."""
    config = LogConfig(index_interval=0, index_bytes=24)  # three .index entries, two .timeindex
    plog = PartitionLog.open(tmp_path / "t-0", "t", 0, config, True)
    for i in range(6):
        batch = make_batch([(b"k", b"v%d" % i)], timestamp=1000 + i)
        plog.append(batch, split_batches(batch), 1000 + i)
    assert [s.base_offset for s in plog.segments] == [0, 2, 4]
    assert all(s.index_path.stat().st_size <= 24 and s.time_path.stat().st_size <= 24
               for s in plog.segments)


def test_segment_jitter_rolls_early_by_at_most_the_jitter(tmp_path: Path) -> None:
    """segment.jitter.ms takes a random amount below it off segment.ms for each segment."""
    config = LogConfig(segment_ms=10_000, segment_jitter_ms=4_000)
    plog = PartitionLog.open(tmp_path / "t-0", "t", 0, config, True)
    batch = make_batch([(b"k", b"first")], timestamp=1000)
    plog.append(batch, split_batches(batch), 1000)
    jitter = plog._roll_jitter()
    assert 0 <= jitter < 4_000
    late = make_batch([(b"k", b"late")], timestamp=1000 + 10_000 - jitter - 1)
    plog.append(late, split_batches(late), 1000 + 10_000 - jitter - 1)
    assert len(plog.segments) == 1
    due = make_batch([(b"k", b"due")], timestamp=1000 + 10_000 - jitter)
    plog.append(due, split_batches(due), 1000 + 10_000 - jitter)
    assert len(plog.segments) == 2
