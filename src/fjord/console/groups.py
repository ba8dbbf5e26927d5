"""Consumer groups: list (filtered, paged), members and assignment, lag per partition, and offset
resets that show their plan first (dry run) and apply only to an empty group, as
kafka-consumer-groups.sh does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from fjord.console.clients import TIMEOUT
from fjord.console.paging import Page, matches, paginate
from fjord.console.topics import ConsoleError, kafka_message, watermarks


@dataclass
class GroupRow:
    group_id: str
    state: str
    members: int = 0
    lag: int = 0
    topics: int = 0


@dataclass
class LagRow:
    topic: str
    partition: int
    committed: int | None
    end: int
    member: str = ""

    @property
    def lag(self) -> int:
        return self.end - (self.committed if self.committed is not None and self.committed >= 0 else 0)


@dataclass
class GroupDetail:
    group_id: str
    state: str
    protocol: str
    coordinator: str
    members: list[dict[str, Any]] = field(default_factory=list)
    partitions: list[LagRow] = field(default_factory=list)

    @property
    def lag(self) -> int:
        return sum(r.lag for r in self.partitions)


def _committed(admin: AdminClient, group: str) -> dict[tuple[str, int], int]:
    future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
    try:
        result = future.result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    return {(tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or []}


def list_groups(admin: AdminClient, query: str, page: int) -> Page[GroupRow]:
    try:
        listing = admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    names = sorted(g.group_id for g in listing.valid if matches(g.group_id, query))
    result = paginate(names, page)
    rows: list[GroupRow] = []
    if result.items:
        described = admin.describe_consumer_groups(result.items, request_timeout=TIMEOUT)
        committed = {g: _committed(admin, g) for g in result.items}
        marks = watermarks(admin, [TopicPartition(t, p) for c in committed.values() for (t, p) in c])
        for name in result.items:
            try:
                desc = described[name].result(TIMEOUT)
                state, members = str(desc.state.name), len(desc.members)
            except KafkaException:
                state, members = "UNKNOWN", 0
            offsets = committed[name]
            lag = sum(max(0, marks.get(key, (0, 0))[1] - max(off, 0)) for key, off in offsets.items())
            rows.append(GroupRow(name, state, members, lag, len({t for t, _ in offsets})))
    return Page(rows, result.number, result.size, result.total)


def describe_group(admin: AdminClient, group: str) -> GroupDetail:
    try:
        desc = admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    owner: dict[tuple[str, int], str] = {}
    members = []
    for m in desc.members:
        assigned = [
            (tp.topic, tp.partition) for tp in (m.assignment.topic_partitions if m.assignment else [])
        ]
        for key in assigned:
            owner[key] = m.member_id
        members.append(
            {
                "member_id": m.member_id,
                "client_id": m.client_id,
                "host": m.host,
                "instance_id": m.group_instance_id,
                "assignment": ", ".join(f"{t}-{p}" for t, p in sorted(assigned)),
            }
        )
    committed = _committed(admin, group)
    keys = sorted(set(committed) | set(owner))
    marks = watermarks(admin, [TopicPartition(t, p) for t, p in keys])
    rows = [
        LagRow(t, p, committed.get((t, p)), marks.get((t, p), (0, 0))[1], owner.get((t, p), ""))
        for t, p in keys
    ]
    coordinator = f"{desc.coordinator.host}:{desc.coordinator.port}" if desc.coordinator else ""
    return GroupDetail(group, str(desc.state.name), desc.partition_assignor or "", coordinator, members, rows)


@dataclass
class ResetPlan:
    group: str
    rows: list[tuple[str, int, int | None, int]]  # topic, partition, current, new


def plan_reset(admin: AdminClient, group: str, topic: str, to: str, value: str) -> ResetPlan:
    """What a reset would do: for each partition of `topic`, current and new offsets."""
    metadata = admin.list_topics(topic=topic, timeout=TIMEOUT)
    info = metadata.topics.get(topic)
    if info is None or info.error is not None:
        raise ConsoleError(f"topic {topic} does not exist")
    parts = [TopicPartition(topic, p) for p in sorted(info.partitions)]
    committed = _committed(admin, group)
    if to in ("earliest", "latest"):
        spec = OffsetSpec.earliest() if to == "earliest" else OffsetSpec.latest()
        futures = admin.list_offsets({tp: spec for tp in parts}, request_timeout=TIMEOUT)
        target = {tp.partition: f.result().offset for tp, f in futures.items()}
    elif to == "offset":
        try:
            offset = int(value)
        except ValueError:
            raise ConsoleError(f"offset {value!r} is not a number") from None
        marks = watermarks(admin, parts)
        target = {
            tp.partition: min(max(offset, marks[(topic, tp.partition)][0]), marks[(topic, tp.partition)][1])
            for tp in parts
        }
    elif to == "timestamp":
        try:
            stamp = int(value)
        except ValueError:
            raise ConsoleError(f"timestamp {value!r} is not epoch milliseconds") from None
        futures = admin.list_offsets(
            {tp: OffsetSpec.for_timestamp(stamp) for tp in parts}, request_timeout=TIMEOUT
        )
        marks = watermarks(admin, parts)
        target = {}
        for tp, f in futures.items():
            found = f.result().offset
            target[tp.partition] = found if found >= 0 else marks[(topic, tp.partition)][1]
    else:
        raise ConsoleError(f"reset to {to!r}: use earliest, latest, offset or timestamp")
    rows = [(topic, p, committed.get((topic, p)), target[p]) for p in sorted(target)]
    return ResetPlan(group, rows)


def apply_reset(admin: AdminClient, plan: ResetPlan) -> None:
    request = ConsumerGroupTopicPartitions(
        plan.group, [TopicPartition(t, p, new) for t, p, _, new in plan.rows]
    )
    try:
        admin.alter_consumer_group_offsets([request])[plan.group].result(TIMEOUT)
    except KafkaException as exc:
        message = kafka_message(exc)
        if "UNKNOWN_MEMBER" in message or "not empty" in message.lower() or "REBALANCE" in message:
            message += " (stop the group's consumers first: offsets reset only on an empty group)"
        raise ConsoleError(message) from None
