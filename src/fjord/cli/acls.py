"""Manage ACLs (kafka-acls.sh): `fjord acls --add|--remove|--list` with Kafka's flags."""

from __future__ import annotations

from pathlib import Path

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    ResourcePatternType,
    ResourceType,
)

from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, TIMEOUT, admin_client, fail

CLUSTER = "kafka-cluster"


def _resources(topics: list[str], groups: list[str], txn_ids: list[str], cluster: bool
               ) -> list[tuple[ResourceType, str]]:
    found = [(ResourceType.TOPIC, t) for t in topics] + [(ResourceType.GROUP, g) for g in groups]
    found += [(ResourceType.TRANSACTIONAL_ID, t) for t in txn_ids]
    if cluster:
        found.append((ResourceType.BROKER, CLUSTER))  # librdkafka names the cluster resource BROKER
    return found


def _operation(name: str) -> AclOperation:
    try:
        return AclOperation[name.upper().replace("-", "_")]
    except KeyError:
        fail(f"unknown operation {name!r}: use one of "
             + ", ".join(op.name.title() for op in AclOperation if op.value > 1))


def _pattern(name: str) -> ResourcePatternType:
    try:
        return ResourcePatternType[name.upper()]
    except KeyError:
        fail(f"unknown --resource-pattern-type {name!r}: use literal, prefixed, match or any")


def _describe(binding: AclBinding) -> str:
    operation = getattr(binding.operation, "name", binding.operation)
    permission = getattr(binding.permission_type, "name", binding.permission_type)
    return (f"(principal={binding.principal}, host={binding.host}, "
            f"operation={operation}, permissionType={permission})")


def acls(
    add: bool = typer.Option(False, "--add", help="Add the ACLs described."),
    remove: bool = typer.Option(False, "--remove", help="Remove the ACLs described."),
    list_: bool = typer.Option(False, "--list", help="List ACLs (of the resources given, else all)."),
    allow_principal: list[str] = typer.Option([], "--allow-principal", help="e.g. User:alice (repeatable)."),
    deny_principal: list[str] = typer.Option([], "--deny-principal", help="e.g. User:mallory (repeatable)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Host of allow ACLs (default *)."),
    deny_host: list[str] = typer.Option([], "--deny-host", help="Host of deny ACLs (default *)."),
    operation: list[str] = typer.Option([], "--operation", help="Read, Write, Create, Describe, All, ..."),
    topic: list[str] = typer.Option([], "--topic", help="A topic (repeatable; * for all)."),
    group: list[str] = typer.Option([], "--group", help="A consumer group (repeatable)."),
    transactional_id: list[str] = typer.Option([], "--transactional-id", help="A transactional id."),
    cluster: bool = typer.Option(False, "--cluster", help="The cluster resource."),
    pattern_type: str | None = typer.Option(
        None, "--resource-pattern-type",
        help="literal or prefixed for --add (default literal); also match or any (the default) for "
             "--list and --remove."),
    principal: str | None = typer.Option(None, "--principal", help="With --list: only this principal."),
    force: bool = typer.Option(True, "--force/--no-force",
                               help="Kafka asks before removing; Fjord does not."),
    bootstrap: str = BOOTSTRAP,
    command_config: Path | None = COMMAND_CONFIG,
) -> None:
    """Add, remove or list ACLs (kafka-acls.sh)."""
    if sum((add, remove, list_)) != 1:
        fail("give exactly one of --add, --remove and --list")
    pattern = _pattern(pattern_type or ("literal" if add else "any"))
    resources = _resources(topic, group, transactional_id, cluster)
    admin = admin_client(bootstrap, command_config)
    try:
        if list_:
            anything: list[tuple[ResourceType, str | None]] = [(ResourceType.ANY, None)]
            filters = [AclBindingFilter(kind, name, pattern, principal, None,  # type: ignore[arg-type]
                                        AclOperation.ANY, AclPermissionType.ANY)
                       for kind, name in (resources or anything)]
            found: dict[tuple[str, str, str], list[AclBinding]] = {}
            for item in filters:
                for binding in admin.describe_acls(item, request_timeout=TIMEOUT).result():
                    key = (str(getattr(binding.restype, "name", binding.restype)), binding.name,
                           str(getattr(binding.resource_pattern_type, "name", "")))
                    found.setdefault(key, []).append(binding)
            for (kind, name, kind_pattern), bindings in sorted(found.items()):
                typer.echo(f"Current ACLs for resource `ResourcePattern(resourceType={kind}, name={name}, "
                           f"patternType={kind_pattern})`: ")
                for binding in bindings:
                    typer.echo(f" \t{_describe(binding)} ")
                typer.echo("")
            return
        if not resources:
            fail("name a resource: --topic, --group, --transactional-id or --cluster")
        ops = [_operation(op) for op in operation] or ([AclOperation.ALL] if add else [AclOperation.ANY])
        entries = [(p, h, AclPermissionType.ALLOW) for p in allow_principal for h in (allow_host or ["*"])]
        entries += [(p, h, AclPermissionType.DENY) for p in deny_principal for h in (deny_host or ["*"])]
        if add:
            if not entries:
                fail("--add needs --allow-principal or --deny-principal")
            if pattern not in (ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED):
                fail("--add takes --resource-pattern-type literal or prefixed")
            bindings = [AclBinding(kind, name, pattern, who, host, op, permission)
                        for kind, name in resources for who, host, permission in entries for op in ops]
            for binding, future in admin.create_acls(bindings, request_timeout=TIMEOUT).items():
                future.result()
                typer.echo(f"Adding ACLs for resource `{binding.name}`: "
                           f"{_describe(binding)}")
            return
        anyone: list[tuple[str | None, str | None, AclPermissionType]] = [(None, None, AclPermissionType.ANY)]
        removals = [AclBindingFilter(kind, name, pattern, who, host, op, permission)  # type: ignore[arg-type]
                    for kind, name in resources
                    for who, host, permission in (entries or anyone)
                    for op in ops]
        for future in admin.delete_acls(removals, request_timeout=TIMEOUT).values():
            for binding in future.result():
                typer.echo(f"Removed ACL for resource `{binding.name}`: "
                           f"{_describe(binding)}")
    except KafkaException as exc:
        fail(str(exc.args[0].str() if exc.args and hasattr(exc.args[0], "str") else exc))
