"""Heartbeat (12): keeps a member alive and tells it when a rebalance has begun.

Versions: v0-v4

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: group_instance_id (KIP-345 static membership)
* v4: flexible versions
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(12, "Heartbeat", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.READ, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed}
    code = coordinator(ctx).heartbeat(request.group_id, request.generation_id, request.member_id,
                                      getattr(request, "group_instance_id", None))
    return {"error_code": code}
