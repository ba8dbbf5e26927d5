"""DescribeClientQuotas (48) / AlterClientQuotas (49): quotas by user, client id, both,
and their defaults (a null entity name), stored with the cluster metadata.

DescribeClientQuotas versions: v0-v1
AlterClientQuotas versions: v0-v1

Version notes:
* v0: user, client-id, user+client-id and ip entities, defaults by a null name (KIP-546)
* v1: flexible versions

Describing needs DESCRIBE_CONFIGS on the cluster, altering ALTER_CONFIGS, as in Kafka.
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType
from fjord.security.quotas import CLIENT_ID, IP, QUOTA_KEYS, USER, entity_key

log = logging.getLogger("fjord.security")
MATCH_EXACT, MATCH_DEFAULT, MATCH_SPECIFIED = 0, 1, 2


def _matches(entity: tuple[tuple[str, str | None], ...], components: Any, strict: bool) -> bool:
    parts = dict(entity)
    for component in components:
        if component.entity_type not in parts:
            return False
        name = parts[component.entity_type]
        if component.match_type == MATCH_EXACT and name != component.match:
            return False
        if component.match_type == MATCH_DEFAULT and name is not None:
            return False
        if component.match_type == MATCH_SPECIFIED and name is None:
            return False
    return not strict or len(parts) == len(components)


@api(48, "DescribeClientQuotas", 0, 1)
async def describe(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if not ctx.allowed(Op.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
                "entries": None}
    for component in request.components:
        if component.entity_type not in (USER, CLIENT_ID, IP):
            return {"error_code": ErrorCode.invalid_request, "entries": None,
                    "error_message": f"Unknown entity type {component.entity_type}"}
    entries = [
        {"entity": [{"entity_type": kind, "entity_name": name} for kind, name in entity],
         "values": [{"key": key, "value": value} for key, value in sorted(values.items())]}
        for entity, values in ctx.broker.security.quotas.items()
        if _matches(entity, request.components, request.strict)
    ]
    return {"error_code": ErrorCode.none, "error_message": None, "entries": entries}


@api(49, "AlterClientQuotas", 0, 1)
async def alter(ctx: RequestContext, request: Any) -> dict[str, Any]:
    def entity_of(entry: Any) -> list[dict[str, Any]]:
        return [{"entity_type": e.entity_type, "entity_name": e.entity_name} for e in entry.entity]

    if not ctx.allowed(Op.ALTER_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"entries": [{"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
                             "entity": entity_of(e)} for e in request.entries]}
    store = ctx.broker.security
    results = []
    changed = False
    for entry in request.entries:
        parts = {e.entity_type: e.entity_name for e in entry.entity}
        problem = None
        if not parts or len(parts) != len(entry.entity):
            problem = "Invalid empty or repeated quota entity"
        elif any(kind not in (USER, CLIENT_ID, IP) for kind in parts):
            problem = f"Unknown quota entity type in {sorted(parts)}"
        elif IP in parts and len(parts) > 1:
            problem = "An ip quota entity cannot be combined with user or client-id"
        else:
            for op in entry.ops:
                if op.key not in QUOTA_KEYS and op.key != "connection_creation_rate":
                    problem = f"Unknown quota key {op.key}"
                elif not op.remove and op.value <= 0:
                    problem = f"Quota {op.key} must be positive, got {op.value}"
        if problem is not None:
            results.append({"error_code": ErrorCode.invalid_request, "error_message": problem,
                            "entity": entity_of(entry)})
            continue
        if not request.validate_only:
            key = entity_key(parts)
            values = dict(store.quotas.get(key, {}))
            for op in entry.ops:
                if op.remove:
                    values.pop(op.key, None)
                else:
                    values[op.key] = float(op.value)
            if values:
                store.quotas[key] = values
            else:
                store.quotas.pop(key, None)
            changed = True
        results.append({"error_code": ErrorCode.none, "error_message": None, "entity": entity_of(entry)})
    if changed:
        store.save()
        ctx.broker.quotas.changed()
        log.info("%s altered client quotas", ctx.session.principal)
    return {"entries": results}
