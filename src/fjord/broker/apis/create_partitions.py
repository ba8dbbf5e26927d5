"""CreatePartitions (37): grow a topic; shrinking is refused, as in Kafka.

Versions: v0-v3

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: flexible versions
* v3: same as v2
* assignments (manual replica placement) other than [this node] are refused
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.limits import PartitionBudget
from fjord.broker.registry import api
from fjord.broker.security import topic_denied
from fjord.broker.state import TopicError
from fjord.security.acls import Op


@api(37, "CreatePartitions", 0, 3)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    results = []
    budget = PartitionBudget()
    for topic in request.topics:
        entry: dict[str, Any] = {"name": topic.name, "error_code": 0, "error_message": None}
        if topic_denied(ctx, Op.ALTER, topic.name):
            entry.update(error_code=ErrorCode.topic_authorization_failed,
                         error_message="Authorization failed.")
            results.append(entry)
            continue
        try:
            info = ctx.broker.metadata.topics.get(topic.name)
            budget.take(topic.count - (info.partitions if info is not None else 0))
            ctx.broker.add_partitions(topic.name, topic.count, request.validate_only)
        except TopicError as exc:
            entry.update(error_code=exc.code, error_message=exc.message)
        results.append(entry)
    return {"results": results}
