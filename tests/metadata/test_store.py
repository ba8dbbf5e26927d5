"""The metadata journal on real files: a change costs one line per copy, copies heal,
a torn last line is an unacknowledged change, the journal compacts itself."""

from __future__ import annotations

import json
from pathlib import Path

from fjord.metadata.store import FILE_NAME, MIN_COMPACT_LINES, MetadataStore


def lines(directory: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (directory / FILE_NAME).read_text().splitlines()]


def test_changes_append_one_line_to_every_copy_and_replay(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    store = MetadataStore([a, b])
    with store.batch():
        first = store.add_topic("orders", 3, {"retention.ms": "1000"})
        store.add_topic("audit", 1, {})
    first.partitions = 5
    store.update_topic(first)
    store.delete_topic("audit")
    store.extra["security"] = {"acls": [1]}
    store.save_extra("security")
    pid = store.allocate_producer_ids(1000)
    store.close()
    assert len(lines(a)) == len(lines(b)) == 1 + 6  # the snapshot, then one line per change

    again = MetadataStore([b, a], store.cluster_id)
    assert again.topics["orders"].partitions == 5 and "audit" not in again.topics
    assert again.topics["orders"].configs == {"retention.ms": "1000"}
    assert again.by_id(first.topic_id) is again.topics["orders"]
    assert set(again.deleted.values()) == {"audit"}
    assert again.extra["security"] == {"acls": [1]}
    assert again.allocate_producer_ids(1) == pid + 1000
    again.close()
    assert len(lines(a)) == 2  # rewritten as one snapshot at start, then the new change


def test_the_newest_copy_wins_and_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    store = MetadataStore([a, b])
    store.add_topic("orders", 1, {})
    store.close()
    stale = (a / FILE_NAME).read_bytes()
    store = MetadataStore([a, b], store.cluster_id)
    store.add_topic("newer", 1, {})
    store.close()
    (a / FILE_NAME).write_bytes(stale)  # a copy left behind (a dir that missed a change)
    with open(b / FILE_NAME, "ab") as handle:
        handle.write(b'{"seq": 99, "op": "topic", "topic": {"name": "to')  # torn by a crash
    healed = MetadataStore([a, b], store.cluster_id)
    assert set(healed.topics) == {"orders", "newer"}
    healed.close()
    assert lines(a) == lines(b)


def test_the_journal_compacts_once_it_outgrows_its_snapshot(tmp_path: Path) -> None:
    store = MetadataStore([tmp_path])
    info = store.add_topic("t", 1, {})
    for n in range(MIN_COMPACT_LINES + 5):
        info.configs = {"retention.ms": str(n)}
        store.update_topic(info)
    assert len(lines(tmp_path)) < 20
    store.close()
    assert MetadataStore([tmp_path]).topics["t"].configs == {"retention.ms": str(MIN_COMPACT_LINES + 4)}
