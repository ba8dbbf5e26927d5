"""The cluster's security metadata: ACLs, SCRAM credentials and client quotas.

They are cluster metadata in Kafka (KRaft records), so they live in the metadata store
beside topics and are written the same way (journalled, fsynced) and survive
restarts. Only salted SCRAM keys are kept, never a password.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from typing import Any

from fjord.metadata.store import MetadataStore

SECTION = "security"


@dataclass(frozen=True)
class AclBinding:
    """One ACL, with Kafka's wire codes for the enums (ResourceType, PatternType, ...)."""

    resource_type: int
    resource_name: str
    pattern_type: int
    principal: str
    host: str
    operation: int
    permission: int


@dataclass(frozen=True)
class ScramCredential:
    salt: bytes
    stored_key: bytes
    server_key: bytes
    iterations: int


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class SecurityMetadata:
    """ACLs, SCRAM credentials by (user, mechanism) and quotas by entity, persisted."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store
        raw: dict[str, Any] = store.extra.get(SECTION, {})
        self.acls: set[AclBinding] = {AclBinding(**item) for item in raw.get("acls", [])}
        self.scram: dict[tuple[str, str], ScramCredential] = {}
        for item in raw.get("scram", []):
            self.scram[(item["user"], item["mechanism"])] = ScramCredential(
                base64.b64decode(item["salt"]), base64.b64decode(item["stored_key"]),
                base64.b64decode(item["server_key"]), int(item["iterations"]))
        # entity: tuple of (entity_type, name or None for the default), sorted by type.
        self.quotas: dict[tuple[tuple[str, str | None], ...], dict[str, float]] = {}
        for item in raw.get("quotas", []):
            entity = tuple((kind, name) for kind, name in item["entity"])
            self.quotas[entity] = {k: float(v) for k, v in item["values"].items()}

    def save(self) -> None:
        self._store.extra[SECTION] = {
            "acls": [asdict(acl) for acl in sorted(self.acls, key=_acl_key)],
            "scram": [
                {"user": user, "mechanism": mechanism, "salt": _b64(c.salt),
                 "stored_key": _b64(c.stored_key), "server_key": _b64(c.server_key),
                 "iterations": c.iterations}
                for (user, mechanism), c in sorted(self.scram.items())
            ],
            "quotas": [
                {"entity": [list(part) for part in entity], "values": values}
                for entity, values in self.quotas.items()
            ],
        }
        self._store.save_extra(SECTION)


def _acl_key(acl: AclBinding) -> tuple[Any, ...]:
    return (acl.resource_type, acl.resource_name, acl.pattern_type, acl.principal, acl.host,
            acl.operation, acl.permission)
