"""DeleteGroups (42): remove empty groups and their committed offsets.

Versions: v0-v2

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: flexible versions
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(42, "DeleteGroups", 0, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    groups = coordinator(ctx)
    return {"results": [{"group_id": name, "error_code": ErrorCode.group_authorization_failed
                         if group_denied(ctx, Op.DELETE, name) else groups.delete(name)}
                        for name in request.groups_names]}
