"""The group state machine on its own event loop: rebalance timeout and session expiry
remove members that stopped taking part, and the rest carry on in a new generation."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from fjord.broker.state import BrokerState
from fjord.config.broker import BrokerConfig
from fjord.coordinator.groups import GroupCoordinator, GroupState

PROTOCOLS = [("range", b"\x00\x00\x00\x00\x00\x01\x00\x01t\xff\xff\xff\xff")]


def _coordinator(path: Path) -> GroupCoordinator:
    state = BrokerState(BrokerConfig({"log.dirs": str(path), "group.initial.rebalance.delay.ms": "0"}))
    groups = state.groups
    assert isinstance(groups, GroupCoordinator)
    return groups


async def _join(groups: GroupCoordinator, member_id: str = "", rebalance_ms: int = 300) -> dict[str, Any]:
    return await groups.join("g", member_id, None, 6000, rebalance_ms, "consumer", PROTOCOLS,
                             "client", "/127.0.0.1", require_known_member_id=False)


async def _sync(groups: GroupCoordinator, joined: dict[str, Any]) -> dict[str, Any]:
    assignments = {m["member_id"]: b"a" for m in joined["members"]}
    return await groups.sync("g", joined["generation_id"], joined["member_id"], None, None, None,
                             assignments)


def test_members_that_do_not_rejoin_are_removed_after_the_rebalance_timeout(tmp_path: Path) -> None:
    async def scenario() -> None:
        groups = _coordinator(tmp_path)
        a = await _join(groups)
        assert (a["generation_id"], a["leader"]) == (1, a["member_id"])
        await _sync(groups, a)
        # B joins: A learns of the rebalance by heartbeat and rejoins; B never syncs again.
        b_task = asyncio.create_task(_join(groups))
        await asyncio.sleep(0.01)
        assert groups.heartbeat("g", 1, a["member_id"], None).name == "rebalance_in_progress"
        a2, b = await asyncio.gather(_join(groups, a["member_id"]), b_task)
        assert a2["generation_id"] == b["generation_id"] == 2
        await asyncio.gather(_sync(groups, a2), _sync(groups, b))
        assert groups.groups["g"].state == GroupState.STABLE

        # C joins; only A rejoins: B is dropped when the 300 ms rebalance timeout runs out.
        started = time.monotonic()
        c_task = asyncio.create_task(_join(groups))
        await asyncio.sleep(0.01)
        a3, c = await asyncio.gather(_join(groups, a["member_id"]), c_task)
        elapsed = time.monotonic() - started
        assert 0.25 < elapsed < 2.0, elapsed
        assert a3["generation_id"] == c["generation_id"] == 3
        assert set(groups.groups["g"].members) == {a["member_id"], c["member_id"]}
        assert groups.heartbeat("g", 3, b["member_id"], None).name == "unknown_member_id"

    asyncio.run(scenario())


def test_session_expiry_empties_the_group(tmp_path: Path) -> None:
    async def scenario() -> None:
        groups = _coordinator(tmp_path)
        a = await _join(groups)
        await _sync(groups, a)
        groups.expire_members(time.monotonic() + 5.0)
        assert groups.groups["g"].state == GroupState.STABLE, "6 s session not over yet"
        groups.expire_members(time.monotonic() + 6.5)
        await asyncio.sleep(0.05)
        group = groups.groups["g"]
        assert (group.state, group.generation, group.members) == (GroupState.EMPTY, 2, {})

    asyncio.run(scenario())
