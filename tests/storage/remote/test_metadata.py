"""The remote log metadata file and the chunk cache on their own: what a crash leaves
behind is read back correctly, and the cache stays within its bound."""

from __future__ import annotations

from pathlib import Path

from fjord.storage.remote.chunk_cache import ChunkCache
from fjord.storage.remote.metadata import (
    PartitionMetadata,
    RemoteLogSegmentMetadata,
    SegmentState,
    new_segment_id,
)


def segment(start: int, end: int, state: SegmentState = SegmentState.COPY_SEGMENT_STARTED
            ) -> RemoteLogSegmentMetadata:
    return RemoteLogSegmentMetadata(new_segment_id(), "t", "abc", 0, start, end, 1000 + end,
                                    (end - start + 1) * 10, state)


def test_states_replay_and_only_finished_segments_are_readable(tmp_path: Path) -> None:
    path = tmp_path / "0.jsonl"
    pm = PartitionMetadata(path, "t", "abc", 0)
    first, second, third = segment(0, 9), segment(10, 19), segment(20, 29)
    for meta in (first, second, third):
        pm.put(meta)
    pm.put(first.with_state(SegmentState.COPY_SEGMENT_FINISHED))
    pm.put(second.with_state(SegmentState.COPY_SEGMENT_FINISHED))
    assert [m.start_offset for m in pm.finished] == [0, 10]
    assert pm.copied_upto == 20 and pm.earliest() == 0
    assert [m.segment_id for m in pm.unfinished()] == [third.segment_id]

    # a crash mid-append leaves a torn last line: ignored, everything before it holds
    with open(path, "ab") as file:
        file.write(b'{"segment_id": "torn", "sta')
    again = PartitionMetadata(path, "t", "abc", 0)
    assert [m.start_offset for m in again.finished] == [0, 10]
    assert [m.segment_id for m in again.unfinished()] == [third.segment_id]

    # deleting: invisible from DELETE_SEGMENT_STARTED on, gone after FINISHED and compaction
    again.put(first.with_state(SegmentState.DELETE_SEGMENT_STARTED))
    assert [m.start_offset for m in again.finished] == [10]
    again.put(first.with_state(SegmentState.DELETE_SEGMENT_FINISHED))
    again.set_log_start_offset(12)
    reopened = PartitionMetadata(path, "t", "abc", 0)
    assert first.segment_id not in reopened.segments
    assert reopened.log_start_offset == 12 and reopened.earliest() == 12
    assert reopened.segment_for(5) is not None and reopened.segment_for(5).start_offset == 10  # type: ignore[union-attr]
    assert reopened.segment_for(20) is None
    assert len(path.read_text().splitlines()) == 3  # log start + two live segments


def test_chunk_cache_is_bounded_and_least_recently_used(tmp_path: Path) -> None:
    cache = ChunkCache(tmp_path / "cache", capacity=3000)
    for chunk in range(5):
        cache.put("seg", chunk, bytes([chunk]) * 1000)
    assert cache.size <= 3000
    assert cache.get("seg", 0) is None and cache.get("seg", 4) == b"\x04" * 1000
    assert cache.get("seg", 2) is not None  # now most recent
    cache.put("seg", 5, b"5" * 1000)
    assert cache.get("seg", 2) is not None and cache.get("seg", 3) is None
    assert len(list((tmp_path / "cache").iterdir())) == 3
    cache.drop("seg")
    assert cache.size == 0 and not list((tmp_path / "cache").iterdir())
    # the cache directory is emptied at start-up: its chunks are never the only copy
    cache.put("seg", 9, b"x")
    assert ChunkCache(tmp_path / "cache", 3000).get("seg", 9) is None
