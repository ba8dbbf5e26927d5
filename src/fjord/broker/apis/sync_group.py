"""SyncGroup (14): the leader hands in the assignments; every member gets its own.

Versions: v0-v5

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: group_instance_id (KIP-345)
* v4: flexible versions
* v5: protocol_type and protocol_name (checked against the group's)
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(14, "SyncGroup", 0, 5)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.READ, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed, "assignment": b""}
    result = await coordinator(ctx).sync(
        group_id=request.group_id,
        generation=request.generation_id,
        member_id=request.member_id,
        instance_id=getattr(request, "group_instance_id", None),
        protocol_type=getattr(request, "protocol_type", None),
        protocol_name=getattr(request, "protocol_name", None),
        assignments={a.member_id: a.assignment for a in request.assignments},
    )
    result.setdefault("assignment", b"")
    return result
