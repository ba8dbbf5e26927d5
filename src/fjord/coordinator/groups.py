"""The classic group coordinator: membership, rebalances and offset commits of consumer groups.

Kafka's state machine (Empty, PreparingRebalance, CompletingRebalance, Stable, Dead) runs
on the broker's event loop. A JoinGroup or SyncGroup that has to wait for the rest of the
group parks on a future that the rebalance completes; the connection simply has no answer
until then, as with Kafka. Assignment stays on the client: the leader gets every member's
metadata and sends back the assignments, so each client's own assignors work unchanged.

Error codes and their order of checks follow Kafka's GroupCoordinator, because clients
react to the exact code (rejoin on UNKNOWN_MEMBER_ID / ILLEGAL_GENERATION, keep going on
REBALANCE_IN_PROGRESS, stop on FENCED_INSTANCE_ID).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.config.broker import BrokerConfig
from fjord.coordinator.consumer_groups import ConsumerGroups, ConsumerHeartbeat
from fjord.coordinator.offsets import TOPIC as OFFSETS_TOPIC
from fjord.coordinator.offsets import CommittedOffset, GroupRecord, OffsetStore
from fjord.metadata.store import MetadataStore, TopicInfo
from fjord.storage.log import LogConfig
from fjord.storage.manager import LogManager

log = logging.getLogger("fjord.coordinator")

NEW_MEMBER_JOIN_TIMEOUT = 300.0  # Kafka's: a brand-new member awaiting join is kept this long
SWEEP_INTERVAL = 0.1


class GroupState(StrEnum):
    EMPTY = "Empty"
    PREPARING = "PreparingRebalance"
    COMPLETING = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


class GroupError(Exception):
    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


def _ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class JoinDetails:
    """What a JoinGroup says about the member, as every join path (new, static, rejoin) needs it."""

    instance_id: str | None
    client_id: str
    client_host: str
    session_s: float
    rebalance_s: float
    protocol_type: str
    protocols: list[tuple[str, bytes]]


@dataclass(eq=False)
class Member:
    member_id: str
    instance_id: str | None
    client_id: str
    client_host: str
    session_timeout: float  # seconds
    rebalance_timeout: float
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    join_future: asyncio.Future[dict[str, Any]] | None = None
    sync_future: asyncio.Future[dict[str, Any]] | None = None
    last_heartbeat: float = field(default_factory=time.monotonic)
    is_new: bool = True

    def metadata(self, protocol: str | None) -> bytes:
        for name, data in self.protocols:
            if name == protocol:
                return data
        return b""

    def protocol_names(self) -> list[str]:
        return [name for name, _ in self.protocols]


@dataclass(eq=False)
class Group:
    group_id: str
    state: GroupState = GroupState.EMPTY
    protocol_type: str | None = None
    protocol: str | None = None
    generation: int = 0
    leader: str | None = None
    members: dict[str, Member] = field(default_factory=dict)
    pending: dict[str, float] = field(default_factory=dict)  # member id -> expiry (monotonic)
    static: dict[str, str] = field(default_factory=dict)  # group.instance.id -> member id
    state_since: int = field(default_factory=_ms)  # wall-clock ms of the last transition
    new_member_added: bool = False
    rebalance_task: asyncio.Task[None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def transition(self, state: GroupState) -> None:
        if state != self.state:
            log.debug("group %s: %s -> %s", self.group_id, self.state.value, state.value)
        self.state = state
        self.state_since = _ms()

    def all_joined(self) -> bool:
        return not self.pending and all(m.join_future is not None for m in self.members.values())

    def candidate_protocols(self) -> set[str]:
        sets = [set(m.protocol_names()) for m in self.members.values()]
        return set.intersection(*sets) if sets else set()

    def supports(self, protocol_type: str, names: list[str]) -> bool:
        if not self.members:
            return bool(protocol_type) and bool(names)
        return protocol_type == self.protocol_type and bool(self.candidate_protocols() & set(names))

    def select_protocol(self) -> str:
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = next(name for name in member.protocol_names() if name in candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: votes[name])

    def is_fenced(self, instance_id: str | None, member_id: str) -> bool:
        if instance_id is None:
            return False
        known = self.static.get(instance_id)
        return known is not None and known != member_id

    def max_rebalance_timeout(self) -> float:
        return max((m.rebalance_timeout for m in self.members.values()), default=0.0)

    def subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to, from the consumer protocol; None if unknown."""
        if self.protocol_type != "consumer":
            return None
        topics: set[str] = set()
        for member in self.members.values():
            parsed = parse_subscription(member.metadata(self.protocol))
            if parsed is None:
                return None
            topics |= parsed
        return topics


def parse_subscription(data: bytes) -> set[str] | None:
    """The topics of a ConsumerProtocolSubscription (its first field in every version)."""
    try:
        pos = 2
        (count,) = struct.unpack_from(">i", data, pos)
        pos += 4
        topics = set()
        for _ in range(max(count, 0)):
            (length,) = struct.unpack_from(">h", data, pos)
            pos += 2
            topics.add(data[pos : pos + length].decode("utf-8"))
            pos += length
        return topics
    except (struct.error, UnicodeDecodeError):
        return None


def _fail(future: asyncio.Future[dict[str, Any]] | None, code: ErrorCode, **extra: Any) -> None:
    if future is not None and not future.done():
        future.set_result({"error_code": code, **extra})


class GroupCoordinator:
    def __init__(self, config: BrokerConfig, metadata: MetadataStore, logs: LogManager,
                 log_config: Callable[[TopicInfo], LogConfig]) -> None:
        self.initial_delay = int(config.get("group.initial.rebalance.delay.ms")) / 1000
        self.min_session = int(config.get("group.min.session.timeout.ms"))
        self.max_session = int(config.get("group.max.session.timeout.ms"))
        self.max_size = int(config.get("group.max.size"))
        self.retention_ms = int(config.get("offsets.retention.minutes")) * 60000
        self.retention_check = int(config.get("offsets.retention.check.interval.ms")) / 1000
        self.metadata_max = int(config.get("offset.metadata.max.bytes"))
        self.store = OffsetStore(metadata, logs, int(config.get("offsets.topic.num.partitions")),
                                 log_config)
        self.groups: dict[str, Group] = {}
        self.consumer = ConsumerGroups(metadata)  # KIP-848 groups, by group id
        for group_id in self.store.offsets.keys() | self.store.groups.keys():
            group = Group(group_id)
            record = self.store.groups.get(group_id)
            if record is not None:
                group.protocol_type = record.protocol_type or None
                group.generation = record.generation
                if record.state_timestamp >= 0:
                    group.state_since = record.state_timestamp
            elif self.store.offsets.get(group_id):
                group.state_since = max(v.commit_timestamp for v in self.store.offsets[group_id].values())
            self.groups[group_id] = group

    # --- background work ----------------------------------------------------------------

    def background(self) -> list[tuple[str, float, Callable[[], object]]]:
        """The loops the broker runs for this coordinator: (name, interval s, tick)."""
        return [("group-sweep", SWEEP_INTERVAL, self.sweep),
                ("offsets-retention", self.retention_check, lambda: self.expire_offsets(_ms()))]

    def sweep(self) -> None:
        """Session expiry of both group protocols."""
        self.expire_members(time.monotonic())
        self.consumer.expire(time.monotonic())
        self.settle_consumer_groups()

    def stop(self) -> None:
        """The broker is stopping: no rebalance may outlive it, and members parked in a
        JoinGroup or SyncGroup are answered NOT_COORDINATOR (what Kafka answers when a
        coordinator unloads), so they look for the coordinator again instead of waiting."""
        for group in self.groups.values():
            if group.rebalance_task is not None:
                group.rebalance_task.cancel()
            for member in group.members.values():
                _fail(member.join_future, ErrorCode.not_coordinator, member_id=member.member_id)
                _fail(member.sync_future, ErrorCode.not_coordinator)

    def expire_members(self, now: float) -> None:
        for group in list(self.groups.values()):
            for member_id, deadline in list(group.pending.items()):
                if now > deadline:
                    del group.pending[member_id]
                    group.changed.set()
            for member in list(group.members.values()):
                if member.join_future is not None:
                    alive = not member.is_new or now < member.last_heartbeat + NEW_MEMBER_JOIN_TIMEOUT
                elif member.sync_future is not None:
                    alive = True
                else:
                    alive = now < member.last_heartbeat + member.session_timeout
                if not alive:
                    log.info("group %s: member %s expired after %.0f ms without heartbeat",
                             group.group_id, member.member_id, member.session_timeout * 1000)
                    self._remove_and_rebalance(group, member)

    def expire_offsets(self, now_ms: int) -> int:
        """offsets.retention.minutes: offsets of groups that stayed empty that long go."""
        removed = 0
        for group in list(self.groups.values()):
            if group.state != GroupState.EMPTY:
                continue
            offsets = self.store.get(group.group_id)
            doomed = [key for key, value in offsets.items()
                      if max(group.state_since, value.commit_timestamp) + self.retention_ms < now_ms]
            if doomed:
                self.store.delete_offsets(group.group_id, doomed)
                removed += len(doomed)
                log.info("group %s: expired %d offset(s) after offsets.retention.minutes",
                         group.group_id, len(doomed))
            if not self.store.get(group.group_id) and not group.members and not group.pending:
                self.store.delete_group(group.group_id)
                group.transition(GroupState.DEAD)
                del self.groups[group.group_id]
        return removed

    # --- JoinGroup ----------------------------------------------------------------------

    async def join(self, group_id: str, member_id: str, instance_id: str | None,
                   session_ms: int, rebalance_ms: int, protocol_type: str,
                   protocols: list[tuple[str, bytes]], client_id: str, client_host: str,
                   require_known_member_id: bool, leader_can_skip: bool = False) -> dict[str, Any]:
        if not group_id:
            return {"error_code": ErrorCode.invalid_group_id, "member_id": member_id}
        if not self.min_session <= session_ms <= self.max_session:
            return {"error_code": ErrorCode.invalid_session_timeout, "member_id": member_id}
        live = self.consumer.groups.get(group_id)
        if live is not None and live.members:
            return {"error_code": ErrorCode.inconsistent_group_protocol, "member_id": member_id}
        group = self.groups.get(group_id)
        if group is None:
            if member_id:
                return {"error_code": ErrorCode.unknown_member_id, "member_id": member_id}
            group = self.groups[group_id] = Group(group_id)
        if group.state == GroupState.DEAD:
            return {"error_code": ErrorCode.coordinator_not_available, "member_id": member_id}
        names = [name for name, _ in protocols]
        if not group.supports(protocol_type, names):
            return {"error_code": ErrorCode.inconsistent_group_protocol, "member_id": member_id}
        details = JoinDetails(instance_id, client_id, client_host, session_ms / 1000,
                              rebalance_ms / 1000, protocol_type, list(protocols))

        if not member_id:
            if instance_id is not None and instance_id in group.static:
                return await self._replace_static(group, details)
            if len(group.members) + len(group.pending) >= self.max_size:
                return {"error_code": ErrorCode.group_max_size_reached, "member_id": ""}
            new_id = f"{instance_id or client_id}-{uuid.uuid4()}"
            if instance_id is None and require_known_member_id:
                group.pending[new_id] = time.monotonic() + session_ms / 1000
                return {"error_code": ErrorCode.member_id_required, "member_id": new_id}
            return await self._add_member(group, new_id, details)

        if member_id in group.pending:
            del group.pending[member_id]
            if len(group.members) >= self.max_size:
                return {"error_code": ErrorCode.group_max_size_reached, "member_id": member_id}
            return await self._add_member(group, member_id, details)
        if group.is_fenced(instance_id, member_id):
            return {"error_code": ErrorCode.fenced_instance_id, "member_id": member_id}
        member = group.members.get(member_id)
        if member is None:
            return {"error_code": ErrorCode.unknown_member_id, "member_id": member_id}
        return await self._rejoin(group, member, details, leader_can_skip)

    def _new_member(self, member_id: str, details: JoinDetails) -> Member:
        return Member(member_id, details.instance_id, details.client_id, details.client_host,
                      details.session_s, details.rebalance_s, details.protocol_type,
                      list(details.protocols))

    async def _add_member(self, group: Group, member_id: str, details: JoinDetails) -> dict[str, Any]:
        member = self._new_member(member_id, details)
        future = member.join_future = asyncio.get_running_loop().create_future()
        if not group.members:
            group.protocol_type = member.protocol_type
        group.members[member_id] = member
        if member.instance_id is not None:
            group.static[member.instance_id] = member_id
        if group.leader is None:
            group.leader = member_id
        group.new_member_added = True
        self._maybe_prepare(group)
        group.changed.set()
        return await future

    async def _replace_static(self, group: Group, details: JoinDetails) -> dict[str, Any]:
        """A static member restarted: it takes its old place, fencing the old member id."""
        instance_id = details.instance_id
        assert instance_id is not None
        old = group.members[group.static[instance_id]]
        new_id = f"{instance_id}-{uuid.uuid4()}"
        member = self._new_member(new_id, details)
        member.assignment = old.assignment
        member.is_new = False
        del group.members[old.member_id]
        group.members[new_id] = member
        group.static[instance_id] = new_id
        if group.leader == old.member_id:
            group.leader = new_id
        _fail(old.join_future, ErrorCode.fenced_instance_id, member_id=old.member_id)
        _fail(old.sync_future, ErrorCode.fenced_instance_id)
        log.info("group %s: static member %s rejoined as %s", group.group_id, instance_id, new_id)
        unchanged = old.protocols == member.protocols
        if group.state == GroupState.STABLE and unchanged and group.leader != new_id:
            member.last_heartbeat = time.monotonic()
            return self._join_response(group, member, with_members=False)
        return await self._await_rebalance(group, member)

    async def _rejoin(self, group: Group, member: Member, details: JoinDetails,
                      leader_can_skip: bool) -> dict[str, Any]:
        session, rebalance, protocols = details.session_s, details.rebalance_s, details.protocols
        unchanged = member.protocols == list(protocols)
        is_leader = group.leader == member.member_id
        if group.state == GroupState.COMPLETING and unchanged:
            # It lost the first answer: give it the same generation again.
            return self._join_response(group, member, with_members=is_leader)
        if group.state == GroupState.STABLE and unchanged and not is_leader:
            return self._join_response(group, member, with_members=False)
        member.protocols = list(protocols)
        member.session_timeout = session
        member.rebalance_timeout = rebalance
        _fail(member.join_future, ErrorCode.rebalance_in_progress, member_id=member.member_id)
        return await self._await_rebalance(group, member)

    async def _await_rebalance(self, group: Group, member: Member) -> dict[str, Any]:
        """Park the member's JoinGroup until the rebalance it starts (or joins) completes."""
        future = member.join_future = asyncio.get_running_loop().create_future()
        if group.state == GroupState.PREPARING:
            group.changed.set()
        else:
            self._prepare(group)
        return await future

    def _join_response(self, group: Group, member: Member, with_members: bool) -> dict[str, Any]:
        members = []
        if with_members:
            members = [{"member_id": m.member_id, "group_instance_id": m.instance_id,
                        "metadata": m.metadata(group.protocol)} for m in group.members.values()]
        return {
            "error_code": ErrorCode.none, "generation_id": group.generation,
            "protocol_type": group.protocol_type, "protocol_name": group.protocol,
            "leader": group.leader or "", "member_id": member.member_id, "members": members,
            "skip_assignment": False,
        }

    # --- rebalancing --------------------------------------------------------------------

    def _maybe_prepare(self, group: Group) -> None:
        if group.state in (GroupState.EMPTY, GroupState.STABLE, GroupState.COMPLETING):
            self._prepare(group)

    def _prepare(self, group: Group) -> None:
        if group.state == GroupState.COMPLETING:
            for member in group.members.values():
                member.assignment = b""
                _fail(member.sync_future, ErrorCode.rebalance_in_progress)
                member.sync_future = None
        initial = group.state == GroupState.EMPTY
        group.transition(GroupState.PREPARING)
        log.info("group %s: preparing to rebalance (generation %d, %d member(s))",
                 group.group_id, group.generation, len(group.members))
        group.rebalance_task = asyncio.get_running_loop().create_task(self._rebalance(group, initial))

    async def _rebalance(self, group: Group, initial: bool) -> None:
        try:
            if initial:
                # group.initial.rebalance.delay.ms: let a starting fleet join as one generation.
                delay = self.initial_delay
                remaining = max(group.max_rebalance_timeout() - delay, 0.0)
                while True:
                    group.new_member_added = False
                    await asyncio.sleep(delay)
                    if group.new_member_added and remaining > 0:
                        delay = min(self.initial_delay, remaining)
                        remaining = max(remaining - self.initial_delay, 0.0)
                        continue
                    break
            deadline = time.monotonic() + group.max_rebalance_timeout()
            while not group.all_joined() and group.state == GroupState.PREPARING:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                group.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(group.changed.wait(), left)
            if group.state == GroupState.PREPARING:
                self._complete_join(group)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("group %s: rebalance failed", group.group_id)
        finally:
            if group.rebalance_task is asyncio.current_task():
                group.rebalance_task = None

    def _complete_join(self, group: Group) -> None:
        for member in list(group.members.values()):
            if member.join_future is None:
                log.info("group %s: member %s did not rejoin in time and was removed",
                         group.group_id, member.member_id)
                self._remove(group, member)
        group.generation += 1
        if not group.members:
            group.protocol = None
            group.leader = None
            group.transition(GroupState.EMPTY)
            self._save(group)
            log.info("group %s: generation %d is empty", group.group_id, group.generation)
            return
        group.protocol = group.select_protocol()
        if group.leader not in group.members:
            group.leader = next(iter(group.members))
        group.transition(GroupState.COMPLETING)
        self._save(group)
        log.info("group %s: generation %d with %d member(s), protocol %s", group.group_id,
                 group.generation, len(group.members), group.protocol)
        now = time.monotonic()
        for member in group.members.values():
            future = member.join_future
            member.join_future = None
            member.is_new = False
            member.last_heartbeat = now
            if future is not None and not future.done():
                future.set_result(self._join_response(group, member,
                                                      with_members=member.member_id == group.leader))

    def _save(self, group: Group) -> None:
        record = GroupRecord(group.protocol_type or "", group.generation, group.protocol,
                             group.leader, group.state_since)
        try:
            self.store.save_group(group.group_id, record)
        except OSError as exc:
            log.error("group %s: cannot persist group metadata: %s", group.group_id, exc)

    def _remove(self, group: Group, member: Member) -> None:
        group.members.pop(member.member_id, None)
        if member.instance_id is not None and group.static.get(member.instance_id) == member.member_id:
            del group.static[member.instance_id]
        if group.leader == member.member_id:
            group.leader = next(iter(group.members), None)
        _fail(member.join_future, ErrorCode.unknown_member_id, member_id=member.member_id)
        _fail(member.sync_future, ErrorCode.unknown_member_id)
        member.join_future = member.sync_future = None

    def _remove_and_rebalance(self, group: Group, member: Member) -> None:
        self._remove(group, member)
        if group.state in (GroupState.STABLE, GroupState.COMPLETING):
            self._prepare(group)
        elif group.state == GroupState.PREPARING:
            group.changed.set()

    # --- SyncGroup ----------------------------------------------------------------------

    async def sync(self, group_id: str, generation: int, member_id: str, instance_id: str | None,
                   protocol_type: str | None, protocol_name: str | None,
                   assignments: dict[str, bytes]) -> dict[str, Any]:
        group = self.groups.get(group_id)
        if group is None or member_id not in group.members:
            if group is not None and group.is_fenced(instance_id, member_id):
                return {"error_code": ErrorCode.fenced_instance_id}
            return {"error_code": ErrorCode.unknown_member_id}
        if group.is_fenced(instance_id, member_id):
            return {"error_code": ErrorCode.fenced_instance_id}
        if generation != group.generation:
            return {"error_code": ErrorCode.illegal_generation}
        if ((protocol_type is not None and protocol_type != group.protocol_type)
                or (protocol_name is not None and protocol_name != group.protocol)):
            return {"error_code": ErrorCode.inconsistent_group_protocol}
        member = group.members[member_id]
        if group.state == GroupState.PREPARING:
            return {"error_code": ErrorCode.rebalance_in_progress}
        if group.state == GroupState.STABLE:
            member.last_heartbeat = time.monotonic()
            return self._sync_response(group, member)
        if group.state != GroupState.COMPLETING:
            return {"error_code": ErrorCode.unknown_member_id}
        future = member.sync_future = asyncio.get_running_loop().create_future()
        if member_id == group.leader:
            for other in group.members.values():
                other.assignment = assignments.get(other.member_id, b"")
            group.transition(GroupState.STABLE)
            log.info("group %s: generation %d is stable", group.group_id, group.generation)
            now = time.monotonic()
            for other in group.members.values():
                waiting = other.sync_future
                other.sync_future = None
                other.last_heartbeat = now
                if waiting is not None and not waiting.done():
                    waiting.set_result(self._sync_response(group, other))
        return await future

    def _sync_response(self, group: Group, member: Member) -> dict[str, Any]:
        return {"error_code": ErrorCode.none, "protocol_type": group.protocol_type,
                "protocol_name": group.protocol, "assignment": member.assignment}

    # --- Heartbeat and LeaveGroup -------------------------------------------------------

    def heartbeat(self, group_id: str, generation: int, member_id: str,
                  instance_id: str | None) -> ErrorCode:
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.unknown_member_id
        if group.is_fenced(instance_id, member_id):
            return ErrorCode.fenced_instance_id
        member = group.members.get(member_id)
        if member is None or group.state == GroupState.EMPTY:
            return ErrorCode.unknown_member_id
        if generation != group.generation:
            return ErrorCode.illegal_generation
        member.last_heartbeat = time.monotonic()
        if group.state == GroupState.PREPARING:
            return ErrorCode.rebalance_in_progress
        return ErrorCode.none

    def leave(self, group_id: str, leaving: list[tuple[str, str | None]]) -> list[ErrorCode]:
        group = self.groups.get(group_id)
        if group is None:
            return [ErrorCode.unknown_member_id for _ in leaving]
        results = []
        for member_id, instance_id in leaving:
            if instance_id is not None:
                known = group.static.get(instance_id)
                if known is None:
                    results.append(ErrorCode.unknown_member_id)
                    continue
                if member_id and member_id != known:
                    results.append(ErrorCode.fenced_instance_id)
                    continue
                member_id = known
            if member_id in group.pending:
                del group.pending[member_id]
                group.changed.set()
                results.append(ErrorCode.none)
                continue
            member = group.members.get(member_id)
            if member is None:
                results.append(ErrorCode.unknown_member_id)
                continue
            log.info("group %s: member %s left", group_id, member_id)
            self._remove_and_rebalance(group, member)
            results.append(ErrorCode.none)
        return results

    # --- the consumer protocol (KIP-848) ------------------------------------------------

    def consumer_heartbeat(self, request: ConsumerHeartbeat, client_id: str, client_host: str
                           ) -> dict[str, Any]:
        classic = self.groups.get(request.group_id)
        if classic is not None:
            if classic.members or classic.pending:
                return {"error_code": ErrorCode.group_id_not_found, "member_epoch": -1,
                        "error_message": f"Group {request.group_id} is not a consumer group."}
            del self.groups[request.group_id]  # an empty classic group converts; offsets stay
        response = self.consumer.heartbeat(request, client_id, client_host)
        self.settle_consumer_groups()
        return response

    def settle_consumer_groups(self) -> None:
        """A consumer group left empty is kept as an Empty group, with its offsets."""
        for group_id, group in list(self.consumer.groups.items()):
            if not group.members:
                del self.consumer.groups[group_id]
                empty = self.groups.setdefault(group_id, Group(group_id))
                empty.protocol_type = "consumer"

    # --- offsets ------------------------------------------------------------------------

    def validate_commit(self, group_id: str, generation: int, member_id: str,
                        instance_id: str | None, api_version: int) -> Group | None:
        live = self.consumer.groups.get(group_id)
        if live is not None and live.members:
            code = self.consumer.validate_commit(live, member_id, generation)
            if code != ErrorCode.none:
                raise GroupError(code)
            return None
        group = self.groups.get(group_id)
        if group is None:
            if generation >= 0:
                raise GroupError(ErrorCode.group_id_not_found if api_version >= 9
                                 else ErrorCode.illegal_generation)
            group = self.groups[group_id] = Group(group_id)
            return group
        if group.state == GroupState.DEAD:
            raise GroupError(ErrorCode.coordinator_not_available)
        if group.is_fenced(instance_id, member_id):
            raise GroupError(ErrorCode.fenced_instance_id)
        if generation < 0 and group.state == GroupState.EMPTY:
            return group
        if group.state == GroupState.COMPLETING:
            raise GroupError(ErrorCode.rebalance_in_progress)
        if member_id not in group.members:
            raise GroupError(ErrorCode.unknown_member_id)
        if generation != group.generation:
            raise GroupError(ErrorCode.illegal_generation)
        group.members[member_id].last_heartbeat = time.monotonic()
        return group

    def commit(self, group_id: str, entries: dict[tuple[str, int], CommittedOffset]) -> Any:
        """Write through to the log; returns the partition log so the caller can flush it."""
        return self.store.commit(group_id, entries)

    def fetch(self, group_id: str) -> dict[tuple[str, int], CommittedOffset]:
        return self.store.get(group_id)

    # --- admin --------------------------------------------------------------------------

    def list_groups(self, states: Iterable[str] = ()) -> list[tuple[str, str, str, str]]:
        """(group id, protocol type, state, group type) of every group."""
        wanted = {s.lower() for s in states}
        found = [(g.group_id, g.protocol_type or "", g.state.value, "classic") for g in self.groups.values()]
        found += [(g.group_id, "consumer", g.state, "consumer") for g in self.consumer.groups.values()]
        return [item for item in found if not wanted or item[2].lower() in wanted]

    def delete(self, group_id: str) -> ErrorCode:
        live = self.consumer.groups.get(group_id)
        if live is not None and live.members:
            return ErrorCode.non_empty_group
        group = self.groups.get(group_id)
        if group is None:
            return ErrorCode.group_id_not_found
        if group.state not in (GroupState.EMPTY, GroupState.DEAD) or group.members:
            return ErrorCode.non_empty_group
        try:
            self.store.delete_group(group_id)
        except OSError as exc:
            log.error("group %s: cannot delete: %s", group_id, exc)
            return ErrorCode.kafka_storage_error
        group.transition(GroupState.DEAD)
        del self.groups[group_id]
        log.info("deleted group %s", group_id)
        return ErrorCode.none

    def topic_deleted(self, topic: str) -> None:
        if topic == OFFSETS_TOPIC:
            return
        try:
            self.store.remove_topic(topic)
        except OSError as exc:
            log.error("cannot drop committed offsets of deleted topic %s: %s", topic, exc)

    def delete_offsets(self, group_id: str, keys: list[tuple[str, int]]
                       ) -> tuple[ErrorCode, dict[tuple[str, int], ErrorCode]]:
        live = self.consumer.groups.get(group_id)
        group = self.groups.get(group_id)
        subscribed: set[str] = set()
        if live is not None:
            for member in live.members.values():
                subscribed |= self.consumer.topics_of(member)
        elif group is None:
            return ErrorCode.group_id_not_found, {}
        elif group.state != GroupState.EMPTY:
            topics = group.subscribed_topics()
            if topics is None:
                return ErrorCode.non_empty_group, {}
            subscribed = topics
        results: dict[tuple[str, int], ErrorCode] = {}
        doomed = []
        for key in keys:
            if key[0] in subscribed:
                results[key] = ErrorCode.group_subscribed_to_topic
            else:
                results[key] = ErrorCode.none
                if key in self.store.get(group_id):
                    doomed.append(key)
        if doomed:
            self.store.delete_offsets(group_id, doomed)
        return ErrorCode.none, results
