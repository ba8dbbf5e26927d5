"""ConsumerGroupHeartbeat (68): the new consumer protocol (KIP-848), `group.protocol=consumer`.

Versions: v0-v1

Version notes:
* v0: KIP-848 heartbeat; server-side assignors `uniform` and `range`
* v1: subscribed_topic_regex (RE2J regular expressions, matched with Python's re)

Joining, leaving, subscription changes and assignment all travel in this one request; the
coordinator assigns partitions itself (see coordinator/consumer_groups.py).
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.coordinator.consumer_groups import ConsumerHeartbeat, OwnedPartitions
from fjord.security.acls import Op


@api(68, "ConsumerGroupHeartbeat", 0, 1)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if group_denied(ctx, Op.READ, request.group_id):
        return {"error_code": ErrorCode.group_authorization_failed, "member_epoch": -1,
                "heartbeat_interval": 0}
    result = coordinator(ctx).consumer_heartbeat(_typed(request), ctx.client_id or "",
                                                 f"/{ctx.client_host}")
    result.setdefault("heartbeat_interval", 0)
    return result


def _typed(request: Any) -> ConsumerHeartbeat:
    """The kio request of any version as the coordinator's typed heartbeat."""
    owned = request.topic_partitions
    return ConsumerHeartbeat(
        group_id=request.group_id, member_id=request.member_id or "",
        member_epoch=int(request.member_epoch), instance_id=request.instance_id,
        subscribed_topic_names=(None if request.subscribed_topic_names is None
                                else list(request.subscribed_topic_names)),
        subscribed_topic_regex=getattr(request, "subscribed_topic_regex", None),
        topic_partitions=None if owned is None else [
            OwnedPartitions(item.topic_id, [int(p) for p in item.partitions]) for item in owned])
