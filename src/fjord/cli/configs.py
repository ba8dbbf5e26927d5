"""Broker, cluster-default, logger and topic configs, the kafka-configs.sh way: `fjord configs`.

It speaks DescribeConfigs / IncrementalAlterConfigs itself, one connection to the named
broker, so it works against any Kafka cluster: librdkafka (the client the other commands
use) can address neither the cluster-default broker resource ("") nor BROKER_LOGGER.
"""

from __future__ import annotations

from pathlib import Path

import typer

from fjord.cli.kafka_call import call
from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, fail

TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
SET, DELETE = 0, 1
SOURCES = {1: "DYNAMIC_TOPIC_CONFIG", 2: "DYNAMIC_BROKER_CONFIG", 3: "DYNAMIC_DEFAULT_BROKER_CONFIG",
           4: "STATIC_BROKER_CONFIG", 5: "DEFAULT_CONFIG", 6: "DYNAMIC_BROKER_LOGGER_CONFIG"}
ENTITY_TYPES = ("brokers", "broker-loggers", "topics")


def split_configs(text: str) -> dict[str, str]:
    """kafka-configs.sh's --add-config: k=v pairs separated by commas, [a,b] for lists."""
    pairs: dict[str, str] = {}
    depth, current = 0, ""
    for char in text + ",":
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        if char == "," and depth == 0:
            if current.strip():
                key, sep, value = current.partition("=")
                if not sep:
                    fail(f"--add-config expects key=value pairs, got {current!r}")
                value = value.strip()
                if value.startswith("[") and value.endswith("]"):
                    value = value[1:-1]
                pairs[key.strip()] = value
            current = ""
        else:
            current += char
    return pairs


def _entity(entity_type: str, name: str | None, default: bool) -> str:
    if entity_type not in ENTITY_TYPES:
        fail(f"--entity-type must be one of {', '.join(ENTITY_TYPES)}")
    if default and entity_type != "brokers":
        fail("--entity-default applies to --entity-type brokers only")
    if default:
        return ""
    if not name:
        fail("name the entity with --entity-name (or --entity-default for the cluster default)")
    return name


def _describe(bootstrap: str, kind: int, name: str, what: str, show_all: bool,
              command_config: Path | None) -> None:
    response = call(bootstrap, 32, 1, {"resources": [
        {"resource_type": kind, "resource_name": name, "configuration_keys": None}],
        "include_synonyms": True}, command_config)
    result = response.results[0]
    if result.error_code.value:
        fail(f"cannot describe {what}: {result.error_message or result.error_code.name}")
    static = (4, 5)
    shown = sorted((c for c in result.configs if show_all or c.config_source not in static),
                   key=lambda c: c.name)
    typer.echo(f"{'All' if show_all or kind == BROKER_LOGGER else 'Dynamic'} configs for {what} are:")
    for entry in shown:
        synonyms = ", ".join(f"{SOURCES.get(s.source, s.source)}:{s.name}={s.value or ''}"
                             for s in entry.synonyms)
        typer.echo(f"  {entry.name}={'' if entry.value is None else entry.value} "
                   f"sensitive={str(entry.is_sensitive).lower()} synonyms={{{synonyms}}}")


def _alter(bootstrap: str, kind: int, name: str, what: str, add: dict[str, str], delete: list[str],
           command_config: Path | None) -> None:
    configs = [{"name": k, "config_operation": SET, "value": v} for k, v in add.items()]
    configs += [{"name": k, "config_operation": DELETE, "value": None} for k in delete]
    response = call(bootstrap, 44, 0, {"resources": [
        {"resource_type": kind, "resource_name": name, "configs": configs}], "validate_only": False},
        command_config)
    result = response.responses[0]
    if result.error_code.value:
        fail(f"cannot update the config of {what}: {result.error_message or result.error_code.name}")
    typer.echo(f"Completed updating config for {what}.")


def configs(
    entity_type: str = typer.Option(..., "--entity-type", help="brokers, broker-loggers or topics."),
    entity_name: str | None = typer.Option(None, "--entity-name", help="Broker id or topic name."),
    entity_default: bool = typer.Option(False, "--entity-default",
                                        help="The cluster-wide default broker config."),
    describe: bool = typer.Option(False, "--describe", help="Show the configs."),
    alter: bool = typer.Option(False, "--alter", help="Change the configs."),
    add_config: str = typer.Option("", "--add-config", help="k1=v1,k2=[v2,v3] to set."),
    delete_config: list[str] = typer.Option([], "--delete-config", help="Key to remove (repeatable)."),
    show_all: bool = typer.Option(False, "--all", help="With --describe: static and default ones too."),
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
) -> None:
    """Show or change dynamic configs (kafka-configs.sh)."""
    name = _entity(entity_type, entity_name, entity_default)
    if describe == alter:
        fail("give exactly one of --describe and --alter")
    add = split_configs(add_config)
    deletes = [key for item in delete_config for key in item.split(",") if key]
    if alter and not add and not deletes:
        fail("--alter needs --add-config or --delete-config")
    kind = {"brokers": BROKER, "broker-loggers": BROKER_LOGGER, "topics": TOPIC}[entity_type]
    what = "default broker" if name == "" else f"{entity_type.rstrip('s')} {name}"
    if describe:
        _describe(bootstrap, kind, name, what, show_all, command_config)
    else:
        _alter(bootstrap, kind, name, what, add, deletes, command_config)
