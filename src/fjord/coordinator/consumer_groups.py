"""The new consumer protocol (KIP-848): ConsumerGroupHeartbeat with server-side assignment.

A member heartbeats its subscription and the partitions it owns; the coordinator keeps a
group epoch (bumped by any membership, subscription or metadata change), a target
assignment computed for that epoch (Kafka's "uniform" and "range" assignors both map to
the same balanced spread here), and reconciles each member towards its target without ever
letting two members own a partition: a member first gives up what it must revoke, keeping
its epoch; only then does it move to the target epoch and receive partitions the others
have released. Offset commits are fenced by member epoch (STALE_MEMBER_EPOCH).

Deliberately smaller than Kafka's: the session timeout is Kafka's default 45 s, there is no
rebalance-timeout eviction of a member that never revokes, and group state is not
persisted (a restarted broker has the offsets; members re-join with epoch 0).
"""

from __future__ import annotations

import logging
import re
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.metadata.store import MetadataStore

log = logging.getLogger("fjord.coordinator")

SESSION_TIMEOUT = 45.0  # group.consumer.session.timeout.ms
HEARTBEAT_INTERVAL_MS = 5000  # group.consumer.heartbeat.interval.ms
RECONCILING_INTERVAL_MS = 500  # while a member still moves towards its target
LEAVE_EPOCH, STATIC_LEAVE_EPOCH = -1, -2

Partitions = dict[str, set[int]]


def _copy(parts: Partitions) -> Partitions:
    return {topic: set(ps) for topic, ps in parts.items() if ps}


def _minus(a: Partitions, b: Partitions) -> Partitions:
    return {t: ps - b.get(t, set()) for t, ps in a.items() if ps - b.get(t, set())}


def _union(a: Partitions, b: Partitions) -> Partitions:
    out = _copy(a)
    for topic, ps in b.items():
        out.setdefault(topic, set()).update(ps)
    return out


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def encode_subscription(topics: set[str]) -> bytes:
    """ConsumerProtocolSubscription v0."""
    return (struct.pack(">hi", 0, len(topics)) + b"".join(_string(t) for t in sorted(topics))
            + struct.pack(">i", -1))


def encode_assignment(parts: Partitions) -> bytes:
    """ConsumerProtocolAssignment v0."""
    out = struct.pack(">hi", 0, len(parts))
    for topic, partitions in sorted(parts.items()):
        out += _string(topic) + struct.pack(f">i{len(partitions)}i", len(partitions), *sorted(partitions))
    return out + struct.pack(">i", -1)


@dataclass(frozen=True)
class OwnedPartitions:
    """Partitions of one topic a member reports it owns (topics by id, as on the wire)."""

    topic_id: uuid.UUID
    partitions: list[int]


@dataclass(frozen=True)
class ConsumerHeartbeat:
    """A ConsumerGroupHeartbeat (KIP-848) as the coordinator needs it, whatever its version.

    None means "unchanged since the last heartbeat", as in the request's nullable fields.
    """

    group_id: str
    member_id: str
    member_epoch: int
    instance_id: str | None = None
    subscribed_topic_names: list[str] | None = None
    subscribed_topic_regex: str | None = None
    topic_partitions: list[OwnedPartitions] | None = None


@dataclass(eq=False)
class ConsumerMember:
    member_id: str
    instance_id: str | None
    client_id: str
    client_host: str
    subscribed: set[str] = field(default_factory=set)
    regex: str | None = None
    epoch: int = 0
    previous_epoch: int = -1
    assigned: Partitions = field(default_factory=dict)
    revoking: Partitions = field(default_factory=dict)
    last_heartbeat: float = field(default_factory=time.monotonic)
    sent: Partitions | None = None  # the assignment last sent, to send only changes


@dataclass(eq=False)
class ConsumerGroup:
    group_id: str
    epoch: int = 0
    assignment_epoch: int = 0
    members: dict[str, ConsumerMember] = field(default_factory=dict)
    target: dict[str, Partitions] = field(default_factory=dict)
    fingerprint: tuple[tuple[str, int], ...] = ()

    @property
    def state(self) -> str:
        if not self.members:
            return "Empty"
        if self.assignment_epoch < self.epoch:
            return "Assigning"
        if any(not self.converged(m) for m in self.members.values()):
            return "Reconciling"
        return "Stable"

    def converged(self, member: ConsumerMember) -> bool:
        """At the target epoch, nothing left to revoke, and every target partition received."""
        return (member.epoch == self.assignment_epoch and not member.revoking
                and _copy(member.assigned) == _copy(self.target.get(member.member_id, {})))


class ConsumerGroups:
    def __init__(self, metadata: MetadataStore) -> None:
        self.metadata = metadata
        self.groups: dict[str, ConsumerGroup] = {}

    # --- assignment ---------------------------------------------------------------------

    def topics_of(self, member: ConsumerMember) -> set[str]:
        topics = {t for t in member.subscribed if t in self.metadata.topics}
        if member.regex:
            try:
                pattern = re.compile(member.regex)
            except re.error:
                return topics
            topics |= {name for name, info in self.metadata.topics.items()
                       if not info.internal and pattern.fullmatch(name)}
        return topics

    def _fingerprint(self, group: ConsumerGroup) -> tuple[tuple[str, int], ...]:
        topics: set[str] = set()
        for member in group.members.values():
            topics |= self.topics_of(member)
        return tuple(sorted((t, self.metadata.topics[t].partitions) for t in topics))

    def _assign(self, group: ConsumerGroup) -> None:
        """A balanced, sticky spread: members keep what they have while it stays fair."""
        target: dict[str, Partitions] = {mid: {} for mid in group.members}
        topics = self._fingerprint(group)
        for topic, count in topics:
            subscribers = sorted(mid for mid, m in group.members.items() if topic in self.topics_of(m))
            if not subscribers:
                continue
            quota, extra = divmod(count, len(subscribers))
            limits = {mid: quota + (1 if i < extra else 0) for i, mid in enumerate(subscribers)}
            free = []
            for partition in range(count):
                owner = next((mid for mid in subscribers
                              if partition in group.target.get(mid, {}).get(topic, set())), None)
                if owner is not None and len(target[owner].get(topic, ())) < limits[owner]:
                    target[owner].setdefault(topic, set()).add(partition)
                else:
                    free.append(partition)
            for partition in free:
                mid = next(m for m in subscribers if len(target[m].get(topic, ())) < limits[m])
                target[mid].setdefault(topic, set()).add(partition)
        group.target = target
        group.assignment_epoch = group.epoch
        group.fingerprint = topics

    def _bump(self, group: ConsumerGroup) -> None:
        group.epoch += 1
        self._assign(group)

    # --- the heartbeat ------------------------------------------------------------------

    def heartbeat(self, request: ConsumerHeartbeat, client_id: str, client_host: str
                  ) -> dict[str, Any]:
        group_id = request.group_id
        member_id = request.member_id or ""
        epoch = int(request.member_epoch)
        if not group_id:
            return {"error_code": ErrorCode.invalid_group_id, "member_epoch": -1}
        group = self.groups.get(group_id)
        if epoch in (LEAVE_EPOCH, STATIC_LEAVE_EPOCH):
            if group is not None and member_id in group.members:
                self.remove(group, group.members[member_id], "left")
            return {"error_code": ErrorCode.none, "member_id": member_id, "member_epoch": epoch}
        if epoch == 0:
            if group is None:
                group = self.groups[group_id] = ConsumerGroup(group_id)
            member = group.members.get(member_id) if member_id else None
            if member is None:
                member_id = member_id or str(uuid.uuid4())
                member = ConsumerMember(member_id, request.instance_id, client_id, client_host)
                group.members[member_id] = member
                log.info("group %s: consumer member %s joined", group_id, member_id)
            else:  # a member that lost its state re-joins: it owns nothing any more
                member.assigned, member.revoking = {}, {}
            member.epoch = 0
            member.sent = None
            changed = True
        else:
            member = group.members.get(member_id) if group is not None else None
            if group is None or member is None:
                return {"error_code": ErrorCode.unknown_member_id, "member_epoch": -1}
            if epoch not in (member.epoch, member.previous_epoch):
                return {"error_code": ErrorCode.fenced_member_epoch, "member_epoch": -1}
            changed = False
        member.last_heartbeat = time.monotonic()
        if request.subscribed_topic_names is not None:
            names = set(request.subscribed_topic_names)
            changed |= names != member.subscribed
            member.subscribed = names
        regex = request.subscribed_topic_regex
        if regex is not None:
            regex = regex or None
            changed |= regex != member.regex
            member.regex = regex
        if changed or self._fingerprint(group) != group.fingerprint:
            self._bump(group)
        if request.topic_partitions is not None:
            self._acknowledge(member, request.topic_partitions)
        self._reconcile(group, member)
        log.debug("group %s member %s: epoch %d/%d assigned %s revoking %s target %s", group_id,
                  member.member_id, member.epoch, group.assignment_epoch, member.assigned, member.revoking,
                  group.target.get(member.member_id))
        response: dict[str, Any] = {
            "error_code": ErrorCode.none, "member_id": member.member_id, "member_epoch": member.epoch,
            "heartbeat_interval": HEARTBEAT_INTERVAL_MS,
        }
        if not group.converged(member):  # e.g. waiting for partitions another member releases
            response["heartbeat_interval"] = RECONCILING_INTERVAL_MS
        if member.sent is None or member.sent != member.assigned:
            member.sent = _copy(member.assigned)
            response["assignment"] = {"topic_partitions": [
                {"topic_id": self.metadata.topics[t].topic_id, "partitions": sorted(ps)}
                for t, ps in sorted(member.assigned.items()) if t in self.metadata.topics
            ]}
        return response

    def _acknowledge(self, member: ConsumerMember, owned: list[OwnedPartitions]) -> None:
        """The member reports what it owns: revoked partitions it no longer has are released."""
        reported: Partitions = {}
        for item in owned:
            info = self.metadata.by_id(item.topic_id)
            if info is not None:
                reported.setdefault(info.name, set()).update(item.partitions)
        member.revoking = {t: ps & reported.get(t, set()) for t, ps in member.revoking.items()
                           if ps & reported.get(t, set())}

    def _reconcile(self, group: ConsumerGroup, member: ConsumerMember) -> None:
        target = group.target.get(member.member_id, {})
        to_revoke = _minus(member.assigned, target)
        if to_revoke:
            member.revoking = _union(member.revoking, to_revoke)
            member.assigned = _minus(member.assigned, to_revoke)
        if member.revoking:
            return  # keep the epoch until the member has let go
        taken: Partitions = {}
        for other in group.members.values():
            if other is not member:
                taken = _union(taken, _union(other.assigned, other.revoking))
        member.assigned = _union(member.assigned, _minus(_minus(target, member.assigned), taken))
        if member.epoch != group.assignment_epoch:
            member.previous_epoch, member.epoch = member.epoch, group.assignment_epoch

    # --- lifecycle ----------------------------------------------------------------------

    def remove(self, group: ConsumerGroup, member: ConsumerMember, why: str) -> None:
        group.members.pop(member.member_id, None)
        log.info("group %s: consumer member %s %s", group.group_id, member.member_id, why)
        self._bump(group)

    def expire(self, now: float) -> None:
        for group in list(self.groups.values()):
            for member in list(group.members.values()):
                if now > member.last_heartbeat + SESSION_TIMEOUT:
                    self.remove(group, member, "expired")

    def describe(self, group_id: str) -> dict[str, Any] | None:
        """DescribeGroups' view, with assignments in the classic consumer encoding so that
        admin tools written for classic groups show them."""
        group = self.groups.get(group_id)
        if group is None:
            return None
        return {
            "error_code": ErrorCode.none, "group_id": group_id, "group_state": group.state,
            "protocol_type": "consumer", "protocol_data": "uniform",
            "members": [
                {"member_id": m.member_id, "group_instance_id": m.instance_id, "client_id": m.client_id,
                 "client_host": m.client_host, "member_metadata": encode_subscription(m.subscribed),
                 "member_assignment": encode_assignment(m.assigned)}
                for m in group.members.values()
            ],
        }

    def validate_commit(self, group: ConsumerGroup, member_id: str, epoch: int) -> ErrorCode:
        if epoch < 0 and not member_id:
            return ErrorCode.none if not group.members else ErrorCode.unknown_member_id
        member = group.members.get(member_id)
        if member is None:
            return ErrorCode.unknown_member_id
        if epoch != member.epoch:
            return ErrorCode.stale_member_epoch
        return ErrorCode.none
