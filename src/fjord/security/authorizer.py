"""Kafka's StandardAuthorizer rules over the ACLs in the cluster metadata.

For a principal, host, operation and resource: super users may do anything; the ACLs that
apply to the resource are its LITERAL ones, the `*` wildcard and every PREFIXED one that
the name starts with. A matching DENY wins; else a matching ALLOW allows (ALLOW of READ,
WRITE, DELETE or ALTER implies DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS); else, if
the resource has no ACL at all, `allow.everyone.if.no.acl.found` decides; else deny.
A denial is logged on `fjord.authorizer` as Kafka's kafka.authorizer.logger does.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from fjord.config.broker import BrokerConfig
from fjord.config.definitions import ConfigError
from fjord.metadata.security import AclBinding, SecurityMetadata
from fjord.security.acls import (
    OPERATIONS,
    WILDCARD,
    WILDCARD_PRINCIPAL,
    Op,
    PatternType,
    Permission,
    ResourceType,
)
from fjord.security.principal import KafkaPrincipal

audit = logging.getLogger("fjord.authorizer")

ACCEPTED_CLASSES = frozenset({
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
    "kafka.security.auth.SimpleAclAuthorizer",
    "fjord.security.authorizer.Authorizer",
})
_IMPLIES_DESCRIBE = frozenset({Op.DESCRIBE, Op.READ, Op.WRITE, Op.DELETE, Op.ALTER, Op.ALL})
_IMPLIES_DESCRIBE_CONFIGS = frozenset({Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS, Op.ALL})
_RESOURCE_NAMES = {ResourceType.TOPIC: "Topic", ResourceType.GROUP: "Group",
                   ResourceType.CLUSTER: "Cluster", ResourceType.TRANSACTIONAL_ID: "TransactionalId",
                   ResourceType.DELEGATION_TOKEN: "DelegationToken", ResourceType.USER: "User"}


def _grants(acl_op: int, op: int) -> bool:
    if op == Op.DESCRIBE:
        return acl_op in _IMPLIES_DESCRIBE
    if op == Op.DESCRIBE_CONFIGS:
        return acl_op in _IMPLIES_DESCRIBE_CONFIGS
    return acl_op == op or acl_op == Op.ALL


class Authorizer:
    def __init__(self, config: BrokerConfig, store: SecurityMetadata) -> None:
        name = config.get("authorizer.class.name")
        if name not in ACCEPTED_CLASSES:
            raise ConfigError(f"authorizer.class.name={name} is not an authorizer Fjord has: use "
                              "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
        supers = config.get("super.users") or ""
        self.super_users = frozenset(item.strip() for item in supers.split(";") if item.strip())
        self.allow_if_no_acl = bool(config.get("allow.everyone.if.no.acl.found"))
        self.store = store
        self._literal: dict[tuple[int, str], list[AclBinding]] = defaultdict(list)
        self._prefixed: dict[int, list[AclBinding]] = defaultdict(list)
        self.reindex()

    def reindex(self) -> None:
        """Rebuild the lookup tables after the ACL set changed."""
        self._literal.clear()
        self._prefixed.clear()
        for acl in self.store.acls:
            if acl.pattern_type == PatternType.PREFIXED:
                self._prefixed[acl.resource_type].append(acl)
            else:
                self._literal[(acl.resource_type, acl.resource_name)].append(acl)

    def _applicable(self, resource_type: int, name: str) -> list[AclBinding]:
        found = list(self._literal.get((resource_type, name), ()))
        if name != WILDCARD:
            found += self._literal.get((resource_type, WILDCARD), ())
        found += (acl for acl in self._prefixed.get(resource_type, ())
                  if name.startswith(acl.resource_name))
        return found

    def decide(self, principal: KafkaPrincipal, host: str, op: int, resource_type: int, name: str) -> bool:
        who = str(principal)
        if who in self.super_users:
            return True
        acls = self._applicable(resource_type, name)
        if not acls:
            return self.allow_if_no_acl
        allowed = False
        for acl in acls:
            wildcard = acl.principal == WILDCARD_PRINCIPAL and principal.type == "User"
            if acl.principal != who and not wildcard:
                continue
            if acl.host != WILDCARD and acl.host != host:
                continue
            if acl.permission == Permission.DENY:
                if acl.operation == op or acl.operation == Op.ALL:
                    return False
            elif not allowed and _grants(acl.operation, op):
                allowed = True
        return allowed

    def authorize(self, principal: KafkaPrincipal, host: str, op: int, resource_type: int, name: str,
                  request: str, log_denied: bool = True) -> bool:
        if self.decide(principal, host, op, resource_type, name):
            return True
        if log_denied:
            audit.info("Principal = %s is Denied operation = %s from host = %s on resource = %s:LITERAL:%s "
                       "for request = %s", principal, Op(op).name, host,
                       _RESOURCE_NAMES.get(ResourceType(resource_type), "Unknown"), name, request)
        return False

    def operations(self, principal: KafkaPrincipal, host: str, resource_type: int, name: str) -> int:
        """The "authorized operations" bit set of Metadata/DescribeGroups/DescribeCluster."""
        bits = 0
        for op in OPERATIONS[ResourceType(resource_type)]:
            if self.decide(principal, host, op, resource_type, name):
                bits |= 1 << op
        return bits

    def any_allowed(self, principal: KafkaPrincipal, host: str, op: int, resource_type: int) -> bool:
        """Whether some resource of the type allows the op (Kafka's authorizeByResourceType,
        used for idempotent producers without IDEMPOTENT_WRITE on the cluster)."""
        who = str(principal)
        if who in self.super_users:
            return True
        names = {acl.resource_name for acl in self.store.acls
                 if acl.resource_type == resource_type and acl.permission == Permission.ALLOW}
        return any(self.decide(principal, host, op, resource_type, name) for name in names) or (
            self.allow_if_no_acl and not names)
