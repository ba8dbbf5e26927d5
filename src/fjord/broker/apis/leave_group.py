"""LeaveGroup (13): members leave at once instead of waiting out their session.

Versions: v0-v5

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: a batch of members, static ones by group_instance_id (KIP-345)
* v4: flexible versions
* v5: a reason per member (ignored)

v3+ takes a batch of members, static ones by group.instance.id (KIP-345).
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(13, "LeaveGroup", 0, 5)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.READ, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed, "members": []}
    groups = coordinator(ctx)
    if ctx.api_version < 3:
        (code,) = groups.leave(request.group_id, [(request.member_id, None)])
        return {"error_code": code}
    leaving = [(m.member_id, m.group_instance_id) for m in request.members]
    codes = groups.leave(request.group_id, leaving)
    return {
        "error_code": ErrorCode.none,
        "members": [{"member_id": mid, "group_instance_id": iid, "error_code": code}
                    for (mid, iid), code in zip(leaving, codes, strict=True)],
    }
