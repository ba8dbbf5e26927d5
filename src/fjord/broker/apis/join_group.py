"""JoinGroup (11): join or rejoin a group; answered when the rebalance completes.

Versions: v0-v9

Version notes:
* v1: rebalance_timeout_ms
* v2: throttle_time_ms
* v3: same as v2
* v4: MEMBER_ID_REQUIRED on the first join (KIP-394)
* v5: group_instance_id (KIP-345 static membership)
* v6: flexible versions
* v7: protocol_type in the response
* v8: reason (ignored)
* v9: skip_assignment (always false: the leader assigns)

v4+ clients get MEMBER_ID_REQUIRED with a fresh member id on their first join (KIP-394),
so a client that dies before learning its id cannot leave a ghost member behind.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator, millis
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(11, "JoinGroup", 0, 9)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.READ, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed, "generation_id": -1, "leader": "",
                "member_id": request.member_id, "members": [],
                "protocol_name": None if ctx.api_version >= 7 else ""}
    session = millis(request.session_timeout)
    rebalance = millis(getattr(request, "rebalance_timeout", session))
    if rebalance < 0:
        rebalance = session
    result = await coordinator(ctx).join(
        group_id=request.group_id,
        member_id=request.member_id,
        instance_id=getattr(request, "group_instance_id", None),
        session_ms=session,
        rebalance_ms=rebalance,
        protocol_type=request.protocol_type,
        protocols=[(p.name, p.metadata) for p in request.protocols],
        client_id=ctx.client_id or "",
        client_host=f"/{ctx.client_host}",
        require_known_member_id=ctx.api_version >= 4,
    )
    result.setdefault("generation_id", -1)
    result.setdefault("leader", "")
    result.setdefault("members", [])
    if result.get("protocol_name") is None and ctx.api_version < 7:
        result["protocol_name"] = ""  # not nullable before v7
    return result
