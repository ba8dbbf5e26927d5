"""Topics of a cluster: list (filtered, paged), partitions with offsets, configs, and changes."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from fjord.console.clients import TIMEOUT, ClusterClients
from fjord.console.paging import Page, matches, paginate


class ConsoleError(Exception):
    """A cluster refused what a page asked; str() is the one line the page shows."""


def kafka_message(exc: BaseException) -> str:
    if isinstance(exc, KafkaException) and exc.args:
        err = exc.args[0]
        return str(err.str()) if hasattr(err, "str") else str(err)
    return str(exc)


# Message counts on the topic list cost a ListOffsets entry per partition: past this many
# partitions on one page the list shows names and partition counts only (the topic page counts).
COUNT_BUDGET = 1000


@dataclass
class PartitionRow:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    start: int = 0
    end: int = 0

    @property
    def messages(self) -> int:
        return max(0, self.end - self.start)


@dataclass
class TopicRow:
    name: str
    partitions: int
    internal: bool
    messages: int | None = None
    rows: list[PartitionRow] = field(default_factory=list)


def watermarks(
    admin: AdminClient, partitions: list[TopicPartition]
) -> dict[tuple[str, int], tuple[int, int]]:
    """(earliest, latest) of many partitions in two ListOffsets round trips."""
    if not partitions:
        return {}
    out: dict[tuple[str, int], list[int]] = {(tp.topic, tp.partition): [0, 0] for tp in partitions}
    for index, spec in ((0, OffsetSpec.earliest()), (1, OffsetSpec.latest())):
        futures = admin.list_offsets({tp: spec for tp in partitions}, request_timeout=TIMEOUT)
        for tp, future in futures.items():
            with contextlib.suppress(KafkaException):
                out[(tp.topic, tp.partition)][index] = future.result().offset
    return {key: (low, high) for key, (low, high) in out.items()}


def list_topics(clients: ClusterClients, query: str, page: int, internal: bool = False) -> Page[TopicRow]:
    admin = clients.admin
    metadata = clients.metadata()
    names = sorted(
        name for name in metadata.topics if matches(name, query) and (internal or not name.startswith("__"))
    )
    result = paginate(names, page)
    rows = [
        TopicRow(name, len(metadata.topics[name].partitions), name.startswith("__")) for name in result.items
    ]
    if sum(r.partitions for r in rows) <= COUNT_BUDGET:
        marks = watermarks(
            admin, [TopicPartition(r.name, p) for r in rows for p in metadata.topics[r.name].partitions]
        )
        counts: dict[str, int] = {}
        for (topic, _), (low, high) in marks.items():
            counts[topic] = counts.get(topic, 0) + max(0, high - low)
        for row in rows:
            row.messages = counts.get(row.name, 0)
    return Page(rows, result.number, result.size, result.total)


def describe_topic(
    admin: AdminClient, name: str, page: int, size: int = 100
) -> tuple[Page[PartitionRow], int]:
    metadata = admin.list_topics(topic=name, timeout=TIMEOUT)
    topic = metadata.topics.get(name)
    if topic is None or topic.error is not None:
        raise ConsoleError(f"topic {name} does not exist")
    ids = sorted(topic.partitions)
    result = paginate(ids, page, size)
    rows = []
    marks = watermarks(admin, [TopicPartition(name, p) for p in result.items])
    for pid in result.items:
        info = topic.partitions[pid]
        low, high = marks.get((name, pid), (0, 0))
        rows.append(PartitionRow(pid, info.leader, list(info.replicas), list(info.isrs), low, high))
    return Page(rows, result.number, result.size, result.total), len(ids)


def topic_configs(admin: AdminClient, name: str) -> list[dict[str, Any]]:
    resource = ConfigResource(ResourceType.TOPIC, name)
    try:
        entries = admin.describe_configs([resource])[resource].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    return [
        {
            "name": e.name,
            "value": e.value,
            "default": e.is_default,
            "source": e.source,
            "sensitive": e.is_sensitive,
            "read_only": e.is_read_only,
        }
        for e in sorted(entries.values(), key=lambda e: e.name)
    ]


def create_topic(
    admin: AdminClient, name: str, partitions: int, replication: int, configs: dict[str, str]
) -> None:
    future = admin.create_topics([NewTopic(name, partitions, replication, config=configs)])[name]
    try:
        future.result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def delete_topic(admin: AdminClient, name: str) -> None:
    try:
        admin.delete_topics([name])[name].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def add_partitions(admin: AdminClient, name: str, total: int) -> None:
    try:
        admin.create_partitions([NewPartitions(name, total)])[name].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def alter_config(admin: AdminClient, name: str, key: str, value: str | None) -> None:
    op = AlterConfigOpType.SET if value not in (None, "") else AlterConfigOpType.DELETE
    entry = ConfigEntry(key, value if op == AlterConfigOpType.SET else None, incremental_operation=op)
    resource = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[entry])
    try:
        admin.incremental_alter_configs([resource])[resource].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def brokers(clients: ClusterClients) -> list[dict[str, Any]]:
    metadata = clients.metadata()
    leaders: dict[int, int] = {}
    for topic in metadata.topics.values():
        for part in topic.partitions.values():
            leaders[part.leader] = leaders.get(part.leader, 0) + 1
    return [
        {
            "id": b.id,
            "host": b.host,
            "port": b.port,
            "leaders": leaders.get(b.id, 0),
            "controller": b.id == metadata.controller_id,
        }
        for b in sorted(metadata.brokers.values(), key=lambda b: b.id)
    ]
