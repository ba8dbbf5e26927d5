"""Kafka's ACL vocabulary (wire codes of ResourceType, PatternType, AclOperation,
AclPermissionType) and the filters of DescribeAcls/DeleteAcls."""

from __future__ import annotations

from enum import IntEnum

from fjord.metadata.security import AclBinding


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class Op(IntEnum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


class Permission(IntEnum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


WILDCARD = "*"
CLUSTER_NAME = "kafka-cluster"
WILDCARD_PRINCIPAL = "User:*"

# What each resource type's ACLs can grant, for "authorized operations" bit sets.
OPERATIONS = {
    ResourceType.TOPIC: (Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE,
                         Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS),
    ResourceType.GROUP: (Op.READ, Op.DESCRIBE, Op.DELETE),
    ResourceType.CLUSTER: (Op.CREATE, Op.CLUSTER_ACTION, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS,
                           Op.IDEMPOTENT_WRITE, Op.ALTER, Op.DESCRIBE),
    ResourceType.TRANSACTIONAL_ID: (Op.DESCRIBE, Op.WRITE),
    ResourceType.DELEGATION_TOKEN: (Op.DESCRIBE,),
    ResourceType.USER: (Op.CREATE_TOKENS, Op.DESCRIBE_TOKENS),
}


def invalid_binding(acl: AclBinding) -> str | None:
    """Why CreateAcls must refuse this binding (Kafka's InvalidRequestException text)."""
    if acl.resource_type not in {int(t) for t in OPERATIONS}:
        return f"Invalid resource type {acl.resource_type}"
    if acl.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        return f"Invalid pattern type {acl.pattern_type}: use LITERAL or PREFIXED"
    if not acl.resource_name:
        return "Resource name must not be empty"
    if acl.resource_type == ResourceType.CLUSTER and acl.resource_name != CLUSTER_NAME:
        return f"The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
    if acl.operation in (Op.UNKNOWN, Op.ANY) or acl.operation not in Op._value2member_map_:
        return f"Invalid operation {acl.operation}"
    if acl.permission not in (Permission.DENY, Permission.ALLOW):
        return f"Invalid permission type {acl.permission}"
    kind, sep, name = acl.principal.partition(":")
    if not sep or not kind or not name:
        return f"Could not parse principal from `{acl.principal}` (no colon is present separating " \
               "the principal type from the principal name)"
    if not acl.host:
        return "Host must not be empty: use * for every host"
    return None


def matches_filter(acl: AclBinding, resource_type: int, name: str | None, pattern: int,
                   principal: str | None, host: str | None, operation: int, permission: int) -> bool:
    """Kafka's AclBindingFilter.matches."""
    if resource_type != ResourceType.ANY and acl.resource_type != resource_type:
        return False
    if pattern == PatternType.MATCH:
        if name is not None and not (
            (acl.pattern_type == PatternType.LITERAL
             and acl.resource_name in (name, WILDCARD))
            or (acl.pattern_type == PatternType.PREFIXED and name.startswith(acl.resource_name))
        ):
            return False
    else:
        if pattern != PatternType.ANY and acl.pattern_type != pattern:
            return False
        if name is not None and acl.resource_name != name:
            return False
    if principal is not None and acl.principal != principal:
        return False
    if host is not None and acl.host != host:
        return False
    if operation != Op.ANY and acl.operation != operation:
        return False
    return permission == Permission.ANY or acl.permission == permission
