"""OffsetDelete (47): drop committed offsets of partitions the group no longer consumes.

Versions: v0-v0

Version notes:
* v0: the only version (KIP-496)

Refused per partition with GROUP_SUBSCRIBED_TO_TOPIC while an active member subscribes to
the topic (KIP-496).
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.security.acls import Op


@api(47, "OffsetDelete", 0, 0)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.DELETE, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed, "topics": []}
    keys = [(t.name, p.partition_index) for t in request.topics for p in t.partitions]
    try:
        code, results = coordinator(ctx).delete_offsets(request.group_id, keys)
    except OSError:
        code, results = ErrorCode.coordinator_not_available, {}
    if code != ErrorCode.none:
        return {"error_code": code, "topics": []}
    return {"error_code": ErrorCode.none, "topics": [
        {"name": t.name, "partitions": [
            {"partition_index": p.partition_index, "error_code": results[(t.name, p.partition_index)]}
            for p in t.partitions]}
        for t in request.topics
    ]}
