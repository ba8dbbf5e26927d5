"""ListGroups (16): every group this coordinator knows, filtered by state (v4+) and type (v5+:
"classic" or "consumer", the KIP-848 protocol).

Versions: v0-v5

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: flexible versions
* v4: states_filter and group_state
* v5: types_filter and group_type (classic or consumer)
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType

log = logging.getLogger("fjord.coordinator")


@api(16, "ListGroups", 0, 5)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    log.debug("ListGroups v%d %s", ctx.api_version, request)
    types = {t.lower() for t in getattr(request, "types_filter", ())}
    groups = coordinator(ctx).list_groups(getattr(request, "states_filter", ()))
    if ctx.broker.authorizer is not None and not ctx.allowed(
            Op.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False):
        # Without DESCRIBE on the cluster, only the groups the principal may describe (Kafka).
        groups = [g for g in groups if ctx.allowed(Op.DESCRIBE, ResourceType.GROUP, g[0], log_denied=False)]
    return {"error_code": ErrorCode.none, "groups": [
        {"group_id": group_id, "protocol_type": protocol_type, "group_state": state, "group_type": kind}
        for group_id, protocol_type, state, kind in groups
        if not types or kind in types
    ]}
