"""KIP-848 reconciliation: a partition is never handed to a member before its previous
owner has reported giving it up, and members converge on a balanced assignment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fjord.coordinator.consumer_groups import ConsumerGroups, ConsumerHeartbeat, OwnedPartitions
from fjord.metadata.store import MetadataStore


def _beat(groups: ConsumerGroups, member: str, epoch: int, owned: dict[str, list[int]] | None,
          topics: list[str] | None = None) -> dict[str, Any]:
    store = groups.metadata
    request = ConsumerHeartbeat(
        group_id="g", member_id=member, member_epoch=epoch, subscribed_topic_names=topics,
        topic_partitions=None if owned is None else [
            OwnedPartitions(store.topics[t].topic_id, ps) for t, ps in owned.items()],
    )
    return groups.heartbeat(request, "client", "/127.0.0.1")


def _owned(response: dict[str, Any], store: MetadataStore) -> list[int]:
    assignment = response["assignment"]["topic_partitions"]
    return sorted(p for item in assignment for p in item["partitions"]
                  if store.by_id(item["topic_id"]) is not None)


def test_partitions_move_only_after_revocation(tmp_path: Path) -> None:
    store = MetadataStore([tmp_path])
    store.add_topic("t", 6, {})
    groups = ConsumerGroups(store)
    a = _beat(groups, "A", 0, {}, ["t"])
    assert a["member_epoch"] == 1 and _owned(a, store) == [0, 1, 2, 3, 4, 5]

    b = _beat(groups, "B", 0, {}, ["t"])  # epoch 2: B's share is still A's
    # B moves to the new epoch at once (it has nothing to revoke) but gets nothing yet.
    assert _owned(b, store) == [] and b["member_epoch"] == 2, "nothing is free yet"
    a = _beat(groups, "A", 1, {"t": [0, 1, 2, 3, 4, 5]})
    kept = _owned(a, store)
    assert len(kept) == 3 and a["member_epoch"] == 1, "A must first revoke, keeping its epoch"
    b = _beat(groups, "B", 2, {})
    assert "assignment" not in b or _owned(b, store) == [], "revoking partitions are still A's"

    a = _beat(groups, "A", 1, {"t": kept})  # A reports it let go
    assert a["member_epoch"] == 2
    b = _beat(groups, "B", 2, {})
    assert b["member_epoch"] == 2
    assert sorted(kept + _owned(b, store)) == [0, 1, 2, 3, 4, 5]

    assert _beat(groups, "A", 7, {"t": kept})["error_code"].name == "fenced_member_epoch"
    assert _beat(groups, "A", -1, None)["member_epoch"] == -1  # leave
    b = _beat(groups, "B", 2, {"t": _owned(b, store)})
    assert _owned(b, store) == [0, 1, 2, 3, 4, 5] and b["member_epoch"] == 3
