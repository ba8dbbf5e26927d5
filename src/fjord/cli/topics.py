"""Topics, as kafka-topics.sh and kafka-configs.sh manage them: `fjord topics ...`.

A plain Kafka admin client (confluent-kafka), so it works the same against Fjord or any
Kafka cluster. Partitions can only grow, as in Kafka.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.parse import quote

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from fjord.cli.kafka_call import call
from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, TIMEOUT, admin_client, fail, table

TOPIC_OVERRIDE = ConfigSource.DYNAMIC_TOPIC_CONFIG.value
app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Create, list, describe, alter, configure and delete topics.")


def _pairs(items: list[str]) -> dict[str, str]:
    result = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            fail(f"--config expects key=value, got {item!r}")
        result[key.strip()] = value.strip()
    return result


def _wait(futures: dict, what: str) -> None:  # type: ignore[type-arg]
    for name, future in futures.items():
        try:
            future.result(TIMEOUT)
        except KafkaException as exc:
            label = getattr(name, "name", name)
            fail(f"{what} {label}: {exc.args[0].str()}")


@app.command("list")
def list_topics(bootstrap: str = BOOTSTRAP,
                command_config: Path | None = COMMAND_CONFIG,
                internal: bool = typer.Option(False, "--include-internal")) -> None:
    """Topic names, one per line (kafka-topics.sh --list)."""
    metadata = admin_client(bootstrap, command_config).list_topics(timeout=TIMEOUT)
    for name in sorted(metadata.topics):
        if internal or not name.startswith("__"):
            typer.echo(name)


@app.command()
def create(topic: str, bootstrap: str = BOOTSTRAP,
           command_config: Path | None = COMMAND_CONFIG,
           partitions: int = typer.Option(-1, "--partitions", help="default: num.partitions"),
           replication: int = typer.Option(-1, "--replication-factor"),
           config: list[str] = typer.Option([], "--config", help="key=value topic config")) -> None:
    """Create a topic (kafka-topics.sh --create)."""
    new = NewTopic(topic, partitions, replication, config=_pairs(config))
    admin = admin_client(bootstrap, command_config)  # must outlive its futures
    _wait(admin.create_topics([new], request_timeout=TIMEOUT), "cannot create")
    typer.echo(f"Created topic {topic}.")


@app.command()
def describe(topics: list[str] = typer.Argument(None), bootstrap: str = BOOTSTRAP,
             admin_url: str = typer.Option(
                 None, "--admin", envvar="FJORD_ADMIN_URL",
                 help="The broker's admin.listener (http://host:port): adds remote sizes."),
             command_config: Path | None = COMMAND_CONFIG) -> None:
    """Partitions, leaders, non-default configs (kafka-topics.sh --describe), and where each
    partition's data is: log start, local log start, latest tiered offset and end offset
    (ListOffsets -2/-4/-5/-1), local bytes (DescribeLogDirs) and, with --admin, remote bytes."""
    admin = admin_client(bootstrap, command_config)
    metadata = admin.list_topics(timeout=TIMEOUT)
    names = topics or sorted(n for n in metadata.topics if not n.startswith("__"))
    for name in names:
        info = metadata.topics.get(name)
        if info is None or info.error is not None:
            fail(f"topic '{name}' does not exist")
        resource = ConfigResource(ResourceType.TOPIC, name)
        configs = admin.describe_configs([resource])[resource].result(TIMEOUT)
        overrides = ",".join(f"{k}={v.value}" for k, v in sorted(configs.items())
                             if v.source == TOPIC_OVERRIDE)
        typer.echo(f"Topic: {name}\tPartitionCount: "
                   f"{len(info.partitions)}\tReplicationFactor: 1\tConfigs: {overrides}")
        ids = sorted(info.partitions)
        storage = (_admin_storage(admin_url, name) if admin_url
                   else _storage(bootstrap, name, ids, command_config))
        for p in sorted(info.partitions.values(), key=lambda p: p.id):
            typer.echo(f"\tTopic: {name}\tPartition: {p.id}\tLeader: {p.leader}\t"
                       f"Replicas: {','.join(map(str, p.replicas))}\tIsr: {','.join(map(str, p.isrs))}"
                       f"\t{storage.get(p.id, '')}")


LIST_OFFSETS, DESCRIBE_LOG_DIRS = 2, 35
SPECS = (("LogStartOffset", -2), ("LocalLogStartOffset", -4), ("LatestTieredOffset", -5),
         ("EndOffset", -1))


def _storage(bootstrap: str, topic: str, partitions: list[int],
             command_config: Path | None = None) -> dict[int, str]:
    """Per partition, over the Kafka protocol: the offsets of its local and remote parts
    (ListOffsets -2/-4/-5/-1) and its local bytes (DescribeLogDirs)."""
    columns: dict[int, list[str]] = {p: [] for p in partitions}
    for label, spec in SPECS:
        response = call(bootstrap, LIST_OFFSETS, 9, {
            "replica_id": -1, "isolation_level": 0, "topics": [{"name": topic, "partitions": [
                {"partition_index": p, "current_leader_epoch": -1, "timestamp": spec}
                for p in partitions]}]}, command_config)
        for part in response.topics[0].partitions:
            value = part.offset if part.error_code == 0 else "?"
            columns[part.partition_index].append(f"{label}: {value}")
    sizes: dict[int, int] = {}
    dirs = call(bootstrap, DESCRIBE_LOG_DIRS, 4, {"topics": [{"topic": topic, "partitions": partitions}]},
                command_config)
    for result in dirs.results:
        for entry in result.topics:
            for part in entry.partitions:
                sizes[part.partition_index] = sizes.get(part.partition_index, 0) + part.partition_size
    for p in partitions:
        columns[p].append(f"LocalSize: {sizes.get(p, 0)}")
    return {p: "\t".join(items) for p, items in columns.items()}


def _admin_storage(admin_url: str, topic: str) -> dict[int, str]:
    """The same columns plus the remote bytes, from the broker's admin listener (remote
    sizes are in no Kafka API; Kafka exposes them as metrics)."""
    url = admin_url.rstrip("/") + f"/v1/topics/{quote(topic)}/storage"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        fail(f"cannot read partition storage from {url}: {exc}")
    keys = (("LogStartOffset", "log_start_offset"), ("LocalLogStartOffset", "local_log_start_offset"),
            ("LatestTieredOffset", "latest_tiered_offset"), ("EndOffset", "high_watermark"),
            ("LocalSize", "local_size"), ("RemoteSize", "remote_size"))
    return {int(p["partition"]): "\t".join(f"{label}: {p[key]}" for label, key in keys)
            for p in body.get("partitions", [])}


@app.command()
def alter(topic: str, partitions: int = typer.Option(..., "--partitions"),
          bootstrap: str = BOOTSTRAP,
          command_config: Path | None = COMMAND_CONFIG) -> None:
    """Grow a topic's partition count (kafka-topics.sh --alter)."""
    admin = admin_client(bootstrap, command_config)
    _wait(admin.create_partitions([NewPartitions(topic, partitions)]), "cannot alter")
    typer.echo(f"Topic {topic} now has {partitions} partitions.")


@app.command("config")
def configure(topic: str, bootstrap: str = BOOTSTRAP,
              command_config: Path | None = COMMAND_CONFIG,
              set_: list[str] = typer.Option([], "--set", help="key=value to set"),
              delete: list[str] = typer.Option([], "--delete", help="key to reset to default"),
              show_all: bool = typer.Option(False, "--all", help="show defaults too")) -> None:
    """Show or change topic configs (kafka-configs.sh --entity-type topics)."""
    admin = admin_client(bootstrap, command_config)
    if set_ or delete:
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                   for k, v in _pairs(set_).items()]
        entries += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE)
                    for k in delete]
        resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
        _wait(admin.incremental_alter_configs([resource]), "cannot configure")
        typer.echo(f"Completed updating config for topic {topic}.")
        return
    resource = ConfigResource(ResourceType.TOPIC, topic)
    try:
        configs = admin.describe_configs([resource])[resource].result(TIMEOUT)
    except KafkaException as exc:
        fail(f"cannot describe {topic}: {exc.args[0].str()}")
    rows = [[k, v.value, "topic" if v.source == TOPIC_OVERRIDE else "default"]
            for k, v in sorted(configs.items()) if show_all or v.source == TOPIC_OVERRIDE]
    table(["CONFIG", "VALUE", "SOURCE"], rows)


@app.command()
def delete(topic: str, bootstrap: str = BOOTSTRAP,
           command_config: Path | None = COMMAND_CONFIG) -> None:
    """Delete a topic and its data (kafka-topics.sh --delete)."""
    admin = admin_client(bootstrap, command_config)
    _wait(admin.delete_topics([topic], request_timeout=TIMEOUT), "cannot delete")
    typer.echo(f"Deleted topic {topic}.")
