"""Consumer groups, as kafka-consumer-groups.sh shows them: `fjord groups list|describe|reset-offsets|delete`.

It is a plain Kafka admin client (confluent-kafka's AdminClient) so it works the same
against Fjord or any Kafka cluster, and never reaches into broker internals. The columns
and messages follow kafka-consumer-groups.sh so its users can read (and parse) the output.
"""

from __future__ import annotations

import datetime
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, TIMEOUT, admin_client, client_settings, fail, table

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="List, describe, reset and delete consumer groups.")

INACTIVE = {"EMPTY", "DEAD", "UNKNOWN"}


def _state_name(state: Any) -> str:
    return str(getattr(state, "name", state)).upper()


def _pretty_state(state: Any) -> str:
    names = {"PREPARING_REBALANCE": "PreparingRebalance", "COMPLETING_REBALANCE": "CompletingRebalance"}
    raw = _state_name(state)
    return names.get(raw, raw.capitalize())


# --- reading a group ---------------------------------------------------------------------


@dataclass
class Row:
    topic: str
    partition: int
    current: int | None
    end: int | None
    consumer: str | None = None
    host: str | None = None
    client: str | None = None

    @property
    def lag(self) -> int | None:
        if self.current is None or self.end is None:
            return None
        return max(self.end - self.current, 0)


def describe_group(admin: AdminClient, group: str) -> tuple[Any, list[Row]]:
    try:
        description = admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result()
        offsets = admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group)], request_timeout=TIMEOUT)[group].result()
    except KafkaException as exc:
        fail(f"cannot describe group {group}: {exc.args[0]}")
        raise
    committed = {(tp.topic, tp.partition): tp.offset for tp in offsets.topic_partitions
                 if tp.offset >= 0}
    owners: dict[tuple[str, int], Any] = {}
    for member in description.members:
        for tp in member.assignment.topic_partitions:
            owners[(tp.topic, tp.partition)] = member
    keys = sorted(set(committed) | set(owners))
    ends = log_end_offsets(admin, keys)
    rows = []
    for key in keys:
        member = owners.get(key)
        rows.append(Row(key[0], key[1], committed.get(key), ends.get(key),
                        member.member_id if member else None,
                        member.host if member else None,
                        member.client_id if member else None))
    return description, rows


def _list_offsets(admin: AdminClient, keys: list[tuple[str, int]],
                  spec: OffsetSpec) -> dict[tuple[str, int], int]:
    if not keys:
        return {}
    request = {TopicPartition(t, p): spec for t, p in keys}
    futures = admin.list_offsets(request, request_timeout=TIMEOUT)
    result = {}
    for tp, future in futures.items():
        try:
            result[(tp.topic, tp.partition)] = future.result().offset
        except KafkaException:
            continue
    return result


def log_end_offsets(admin: AdminClient, keys: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    return _list_offsets(admin, keys, OffsetSpec.latest())


def time_lags(settings: dict[str, Any], rows: list[Row]) -> dict[tuple[str, int], float]:
    """MSK's EstimatedTimeLag per lagging partition, read as any client can: the timestamp
    of the newest record minus that of the record at the committed offset (seconds)."""
    lagging = [r for r in rows if r.lag and r.current is not None and r.end is not None]
    if not lagging:
        return {}
    consumer = Consumer({**settings, "group.id": "fjord-groups-time-lag",
                         "enable.auto.commit": False, "enable.partition.eof": False})

    def stamp(topic: str, partition: int, offset: int) -> int | None:
        consumer.assign([TopicPartition(topic, partition, offset)])
        message = consumer.poll(TIMEOUT / 3)
        if message is None or message.error() is not None:
            return None
        return int(message.timestamp()[1])

    lags: dict[tuple[str, int], float] = {}
    try:
        for row in lagging:
            assert row.current is not None and row.end is not None
            first = stamp(row.topic, row.partition, row.current)
            newest = stamp(row.topic, row.partition, row.end - 1)
            if first is not None and newest is not None:
                lags[(row.topic, row.partition)] = max(0.0, (newest - first) / 1000)
    finally:
        consumer.close()
    return lags


# --- commands ----------------------------------------------------------------------------


@app.command("list")
def list_groups(
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
    state: list[str] = typer.Option([], "--state", help="Only groups in this state (repeatable)."),
) -> None:
    """All consumer groups with their state."""
    # keep a reference: a collected client abandons its requests
    admin = admin_client(bootstrap, command_config)
    try:
        result = admin.list_consumer_groups(request_timeout=TIMEOUT).result()
    except KafkaException as exc:
        fail(f"cannot list groups: {exc.args[0]}")
    wanted = {s.replace("_", "").lower() for s in state}
    rows = []
    for listing in sorted(result.valid, key=lambda g: g.group_id):
        pretty = _pretty_state(listing.state)
        if wanted and pretty.lower() not in wanted:
            continue
        rows.append((listing.group_id, pretty))
    table(("GROUP", "STATE"), rows)


@app.command("describe")
def describe(
    group: list[str] = typer.Option([], "--group", help="Group to describe (repeatable)."),
    all_groups: bool = typer.Option(False, "--all-groups", help="Describe every group."),
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
) -> None:
    """Committed offset, log-end offset, lag, time lag and owner of every partition of a group."""
    admin = admin_client(bootstrap, command_config)
    groups = list(group)
    if all_groups:
        groups = sorted(g.group_id for g in admin.list_consumer_groups(request_timeout=TIMEOUT)
                        .result().valid)
    if not groups:
        fail("name a group with --group, or use --all-groups")
    for name in groups:
        description, rows = describe_group(admin, name)
        if not description.members:
            typer.echo(f"\nConsumer group '{name}' has no active members.\n")
        else:
            typer.echo("")
        lags = time_lags(client_settings(bootstrap, command_config), rows)
        # Kafka's columns first, in Kafka's order (scripts parse them); time lag last.
        table(("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
                "CONSUMER-ID", "HOST", "CLIENT-ID", "TIME-LAG"),
               [(name, r.topic, r.partition, r.current, r.end, r.lag, r.consumer, r.host, r.client,
                 _seconds(lags.get((r.topic, r.partition), 0.0 if r.lag == 0 else None)))
                for r in rows])


def _seconds(value: float | None) -> str | None:
    return None if value is None else f"{value:.1f}s"


def _parse_topics(admin: AdminClient, topics: list[str]) -> list[tuple[str, int]]:
    keys: list[tuple[str, int]] = []
    for spec in topics:
        name, _, parts = spec.partition(":")
        if parts:
            keys += [(name, int(p)) for p in parts.split(",") if p.strip()]
            continue
        metadata = admin.list_topics(name, timeout=TIMEOUT)
        topic = metadata.topics.get(name)
        if topic is None or topic.error is not None or not topic.partitions:
            fail(f"topic {name} does not exist")
        keys += [(name, p) for p in sorted(topic.partitions)]
    return keys


def _parse_datetime(text: str) -> int:
    """kafka-consumer-groups.sh's form, YYYY-MM-DDTHH:mm:SS.sss, with an optional zone."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        fail(f"--to-datetime {text!r} is not YYYY-MM-DDTHH:mm:SS.sss[+HH:MM]")
        raise
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return int(moment.timestamp() * 1000)


@app.command("reset-offsets")
def reset_offsets(
    group: str = typer.Option(..., "--group", help="The group whose offsets to reset."),
    topic: list[str] = typer.Option([], "--topic", help="TOPIC or TOPIC:P1,P2 (repeatable)."),
    all_topics: bool = typer.Option(False, "--all-topics", help="Every topic the group has offsets for."),
    to_earliest: bool = typer.Option(False, "--to-earliest"),
    to_latest: bool = typer.Option(False, "--to-latest"),
    to_offset: int | None = typer.Option(None, "--to-offset"),
    to_datetime: str | None = typer.Option(None, "--to-datetime", help="YYYY-MM-DDTHH:mm:SS.sss"),
    shift_by: int | None = typer.Option(None, "--shift-by"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show the new offsets (the default)."),
    execute: bool = typer.Option(False, "--execute", help="Commit the new offsets."),
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
) -> None:
    """Move a group's committed offsets; refused while the group has active members."""
    chosen = [to_earliest, to_latest, to_offset is not None, to_datetime is not None, shift_by is not None]
    if sum(chosen) != 1:
        fail("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by")
    if dry_run and execute:
        fail("--dry-run and --execute exclude each other")
    if bool(topic) == all_topics:
        fail("give --topic or --all-topics")
    admin = admin_client(bootstrap, command_config)
    description, rows = describe_group(admin, group)
    state = _state_name(description.state)
    if description.members or state not in INACTIVE:
        fail(f"Assignments can only be reset if the group '{group}' is inactive, but the current "
              f"state is {_pretty_state(description.state)}.")
    current = {(r.topic, r.partition): r.current for r in rows}
    keys = sorted(current) if all_topics else _parse_topics(admin, topic)
    earliest = _list_offsets(admin, keys, OffsetSpec.earliest())
    latest = _list_offsets(admin, keys, OffsetSpec.latest())
    by_time: dict[tuple[str, int], int] = {}
    if to_datetime is not None:
        by_time = _list_offsets(admin, keys, OffsetSpec.for_timestamp(_parse_datetime(to_datetime)))
    new: dict[tuple[str, int], int] = {}
    for key in keys:
        if key not in latest:
            fail(f"partition {key[0]}-{key[1]} does not exist")
        low, high = earliest.get(key, 0), latest[key]
        if to_earliest:
            target = low
        elif to_latest:
            target = high
        elif to_offset is not None:
            target = to_offset
        elif to_datetime is not None:
            found = by_time.get(key, -1)
            target = found if found >= 0 else high
        else:
            base = current.get(key)
            target = (base if base is not None else high) + (shift_by or 0)
        new[key] = min(max(target, low), high)
    table(("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"),
           [(group, t, p, offset) for (t, p), offset in sorted(new.items())])
    if not execute:
        return
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(t, p, o) for (t, p), o in new.items()])
    try:
        admin.alter_consumer_group_offsets([request], request_timeout=TIMEOUT)[group].result()
    except KafkaException as exc:
        fail(f"cannot reset offsets of {group}: {exc.args[0]}")


@app.command("delete")
def delete(
    group: list[str] = typer.Option(..., "--group", help="Group to delete (repeatable)."),
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
) -> None:
    """Delete empty groups and their committed offsets."""
    admin = admin_client(bootstrap, command_config)
    futures = admin.delete_consumer_groups(list(group), request_timeout=TIMEOUT)
    failed = False
    for name, future in futures.items():
        try:
            future.result()
        except KafkaException as exc:
            failed = True
            typer.echo(f"Error: deletion of group '{name}' failed: {exc.args[0].str()}", err=True)
    done = [name for name in group if name in futures and futures[name].exception() is None]
    if done:
        listed = ", ".join(f"'{name}'" for name in done)
        typer.echo(f"Deletion of requested consumer groups ({listed}) was successful.")
    if failed:
        sys.exit(1)
