"""`__consumer_offsets` records: Kafka's layouts, replay (last record per key wins,
tombstones delete) and offsets.retention.minutes for empty groups."""

from __future__ import annotations

from pathlib import Path

from fjord.broker.state import BrokerState
from fjord.config.broker import BrokerConfig
from fjord.coordinator.groups import GroupCoordinator, GroupState
from fjord.coordinator.offsets import (
    TOPIC,
    CommittedOffset,
    build_batch,
    group_key,
    java_string_hash,
    offset_key,
    offset_value,
    parse_key,
    parse_offset_value,
    partition_for,
)
from fjord.protocol.records import iter_records, split_batches


def _state(path: Path, **overrides: str) -> BrokerState:
    return BrokerState(BrokerConfig({"log.dirs": str(path), **overrides}))


def _groups(state: BrokerState) -> GroupCoordinator:
    coordinator = state.groups
    assert isinstance(coordinator, GroupCoordinator)
    return coordinator


def test_kafka_layouts_and_partitioning() -> None:
    assert java_string_hash("abc") == 96354
    assert java_string_hash("polygenelubricants") == -(2**31)  # Java's famous MIN_VALUE hash
    assert partition_for("abc", 50) == 96354 % 50
    assert partition_for("polygenelubricants", 50) == 0
    key = offset_key("g", "t", 3)
    assert key == b"\x00\x01\x00\x01g\x00\x01t\x00\x00\x00\x03"
    assert parse_key(key) == ("g", "t", 3)
    assert parse_key(group_key("g")) == ("g", None, -1)
    value = CommittedOffset(42, 7, "meta", 1700000000000)
    assert parse_offset_value(offset_value(value)) == value


def test_batches_are_valid_record_batches() -> None:
    batch = bytes(build_batch([(b"k1", b"v1"), (b"k2", None)], 1234))
    (header,) = split_batches(batch)  # checks framing and CRC32C
    assert header.count == 2 and header.producer_id == -1
    records = list(iter_records(batch))
    assert [(r.key, r.value, r.timestamp) for r in records] == [(b"k1", b"v1", 1234), (b"k2", None, 1234)]


def test_replay_keeps_the_last_record_per_key(tmp_path: Path) -> None:
    state = _state(tmp_path)
    groups = _groups(state)
    store = groups.store
    store.commit("g", {("t", 0): CommittedOffset(5, -1, "", 1), ("t", 1): CommittedOffset(9, -1, "", 1)})
    store.commit("g", {("t", 0): CommittedOffset(7, -1, "later", 2)})
    store.delete_offsets("g", [("t", 1)])
    store.commit("gone", {("t", 0): CommittedOffset(1, -1, "", 1)})
    store.delete_group("gone")
    assert state.metadata.topics[TOPIC].internal
    state.close()

    reopened = _groups(_state(tmp_path))
    assert reopened.fetch("g") == {("t", 0): CommittedOffset(7, -1, "later", 2)}
    assert reopened.fetch("gone") == {}
    assert set(reopened.groups) == {"g"}
    assert reopened.groups["g"].state == GroupState.EMPTY


def test_offsets_of_empty_groups_expire(tmp_path: Path) -> None:
    state = _state(tmp_path, **{"offsets.retention.minutes": "1"})
    groups = _groups(state)
    groups.validate_commit("idle", -1, "", None, 8)  # a simple (assign-mode) commit
    groups.commit("idle", {("t", 0): CommittedOffset(3, -1, "", 1000)})
    groups.groups["idle"].state_since = 1000
    assert groups.expire_offsets(1000 + 59_000) == 0
    assert groups.fetch("idle")
    assert groups.expire_offsets(1000 + 61_000) == 1
    assert groups.fetch("idle") == {} and "idle" not in groups.groups
    state.close()
    assert _groups(_state(tmp_path)).fetch("idle") == {}


def test_deleting_a_topic_drops_its_committed_offsets(tmp_path: Path) -> None:
    state = _state(tmp_path)
    state.create_topic("doomed", 1, 1, {})
    state.create_topic("kept", 1, 1, {})
    groups = _groups(state)
    groups.commit("g", {("doomed", 0): CommittedOffset(4, -1, "", 1),
                        ("kept", 0): CommittedOffset(2, -1, "", 1)})
    state.delete_topic("doomed")
    assert groups.fetch("g") == {("kept", 0): CommittedOffset(2, -1, "", 1)}
    state.close()
    assert _groups(_state(tmp_path)).fetch("g") == {("kept", 0): CommittedOffset(2, -1, "", 1)}
