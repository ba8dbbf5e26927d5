"""ACLs and SCRAM users of a cluster, through Kafka's admin APIs (DescribeAcls, CreateAcls,
DeleteAcls, DescribeUserScramCredentials, AlterUserScramCredentials). Passwords are only ever
sent, never shown: Kafka returns a user's mechanisms and iterations, not secrets."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from fjord.console.clients import TIMEOUT
from fjord.console.topics import ConsoleError, kafka_message

RESOURCE_TYPES = ("TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID")
PATTERN_TYPES = ("LITERAL", "PREFIXED")
OPERATIONS = (
    "ALL",
    "READ",
    "WRITE",
    "CREATE",
    "DELETE",
    "ALTER",
    "DESCRIBE",
    "CLUSTER_ACTION",
    "DESCRIBE_CONFIGS",
    "ALTER_CONFIGS",
    "IDEMPOTENT_WRITE",
)
PERMISSIONS = ("ALLOW", "DENY")


def list_acls(admin: AdminClient) -> list[dict[str, Any]]:
    any_name: Any = None  # Kafka's filter: a null name, principal or host matches every one
    everything = AclBindingFilter(ResourceType.ANY, any_name, ResourcePatternType.ANY, any_name, any_name,
                                  AclOperation.ANY, AclPermissionType.ANY)
    try:
        bindings = admin.describe_acls(everything, request_timeout=TIMEOUT).result(TIMEOUT)
    except KafkaException as exc:
        message = kafka_message(exc)
        if "SECURITY_DISABLED" in message or "no authorizer" in message.lower():
            raise ConsoleError("this cluster has no authorizer (set authorizer.class.name)") from None
        raise ConsoleError(message) from None
    return sorted(
        (
            {
                "principal": b.principal,
                "host": b.host,
                "resource_type": b.restype.name,
                "name": b.name,
                "pattern": b.resource_pattern_type.name,
                "operation": b.operation.name,
                "permission": b.permission_type.name,
            }
            for b in bindings
        ),
        key=lambda a: (a["resource_type"], a["name"], a["principal"], a["operation"]),
    )


def _binding(acl: dict[str, str]) -> AclBinding:
    try:
        return AclBinding(
            ResourceType[acl["resource_type"]],
            acl["name"],
            ResourcePatternType[acl["pattern"]],
            acl["principal"],
            acl["host"] or "*",
            AclOperation[acl["operation"]],
            AclPermissionType[acl["permission"]],
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ConsoleError(f"not a valid ACL: {exc}") from None


def create_acl(admin: AdminClient, acl: dict[str, str]) -> None:
    if not acl.get("principal", "").startswith("User:"):
        raise ConsoleError("the principal must look like User:alice")
    binding = _binding(acl)
    try:
        admin.create_acls([binding], request_timeout=TIMEOUT)[binding].result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def delete_acl(admin: AdminClient, acl: dict[str, str]) -> int:
    b = _binding(acl)
    flt = AclBindingFilter(
        b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type
    )
    try:
        return len(admin.delete_acls([flt], request_timeout=TIMEOUT)[flt].result(TIMEOUT))
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def list_users(admin: AdminClient, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Every SCRAM user, or the named ones (a broker may answer the unnamed form with none)."""
    try:
        if names:
            futures: Any = admin.describe_user_scram_credentials(names, request_timeout=TIMEOUT)
            described = {}
            for name, item in futures.items():
                try:
                    described[name] = item.result(TIMEOUT)
                except KafkaException:
                    continue  # no such user
        else:
            future: Any = admin.describe_user_scram_credentials(request_timeout=TIMEOUT)
            described = future.result(TIMEOUT)
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    return [
        {
            "user": name,
            "mechanisms": ", ".join(
                f"{i.mechanism.name} ({i.iterations} iterations)" for i in desc.scram_credential_infos
            ),
        }
        for name, desc in sorted(described.items())
    ]


def upsert_user(admin: AdminClient, user: str, password: str, mechanism: str) -> None:
    if not user or not password:
        raise ConsoleError("a user needs a name and a password")
    try:
        mech = ScramMechanism[mechanism]
        change = UserScramCredentialUpsertion(user, ScramCredentialInfo(mech, 8192), password.encode())
        admin.alter_user_scram_credentials([change], request_timeout=TIMEOUT)[user].result(TIMEOUT)
    except KeyError:
        raise ConsoleError(f"unknown mechanism {mechanism}") from None
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None


def delete_user(admin: AdminClient, user: str, mechanism: str) -> None:
    try:
        change = UserScramCredentialDeletion(user, ScramMechanism[mechanism])
        admin.alter_user_scram_credentials([change], request_timeout=TIMEOUT)[user].result(TIMEOUT)
    except KeyError:
        raise ConsoleError(f"unknown mechanism {mechanism}") from None
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
