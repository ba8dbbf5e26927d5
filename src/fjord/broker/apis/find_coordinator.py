"""FindCoordinator (10): this broker coordinates every group (and transactional id).

Versions: v0-v6

Version notes:
* v1: key_type (group or transaction), throttle_time_ms, error_message
* v2: same as v1
* v3: flexible versions
* v4: batched coordinator_keys (KIP-699)
* v5-v6: same as v4 (v6 adds the share key type - refused as unsupported)

v4+ batches keys (KIP-699) and answers one entry per key.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.security.acls import Op, ResourceType

GROUP, TRANSACTION = 0, 1


def _entry(ctx: RequestContext, key: str, key_type: int) -> dict[str, Any]:
    broker = ctx.broker
    if key_type not in (GROUP, TRANSACTION):
        return {"key": key, "error_code": ErrorCode.invalid_request,
                "error_message": f"unsupported key type {key_type}",
                "node_id": -1, "host": "", "port": -1}
    if broker.authorizer is not None and not ctx.allowed(
            Op.DESCRIBE, ResourceType.GROUP if key_type == GROUP else ResourceType.TRANSACTIONAL_ID, key):
        code = (ErrorCode.group_authorization_failed if key_type == GROUP
                else ErrorCode.transactional_id_authorization_failed)
        return {"key": key, "error_code": code, "error_message": None, "node_id": -1, "host": "",
                "port": -1}
    return {"key": key, "error_code": ErrorCode.none, "error_message": None,
            "node_id": broker.node_id, "host": ctx.endpoint[0], "port": ctx.endpoint[1]}


@api(10, "FindCoordinator", 0, 6)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    key_type = int(getattr(request, "key_type", GROUP))
    if ctx.api_version >= 4:
        return {"coordinators": [_entry(ctx, key, key_type) for key in request.coordinator_keys]}
    entry = _entry(ctx, request.key, key_type)
    entry.pop("key")
    return entry
