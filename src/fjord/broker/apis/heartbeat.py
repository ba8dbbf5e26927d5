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

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api


@api(12, "Heartbeat", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    code = coordinator(ctx).heartbeat(request.group_id, request.generation_id, request.member_id,
                                      getattr(request, "group_instance_id", None))
    return {"error_code": code}
