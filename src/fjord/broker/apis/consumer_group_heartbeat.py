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

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api


@api(68, "ConsumerGroupHeartbeat", 0, 1)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    result = coordinator(ctx).consumer_heartbeat(request, ctx.client_id or "", f"/{ctx.client_host}")
    result.setdefault("heartbeat_interval", 0)
    return result
