"""DeleteTopics (20): by name, or by topic id from v6.

Versions: v1-v6

Version notes:
* v0: removed by KIP-896 - not served
* v2-v3: same as v1 (throttle, TOPIC_DELETION_DISABLED)
* v4: flexible versions
* v5: error_message per topic
* v6: topics by name or by topic_id
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import mutation_throttle
from fjord.broker.state import TopicError
from fjord.security.acls import Op, ResourceType


@api(20, "DeleteTopics", 1, 6)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    if hasattr(request, "topic_names"):
        wanted = [(name, None) for name in request.topic_names]
    else:
        wanted = [(t.name, t.topic_id) for t in request.topics]
    responses = []
    for name, topic_id in wanted:
        entry: dict[str, Any] = {"name": name, "error_code": 0, "error_message": None}
        if name is None:
            info = broker.metadata.by_id(topic_id) if topic_id is not None else None
            if info is None:
                entry.update(error_code=ErrorCode.unknown_topic_id, topic_id=topic_id)
                responses.append(entry)
                continue
            name = entry["name"] = info.name
        info = broker.metadata.topics.get(name)
        if info is not None:
            entry["topic_id"] = info.topic_id
        if broker.authorizer is not None and not ctx.allowed(Op.DELETE, ResourceType.TOPIC, name):
            entry.update(error_code=ErrorCode.topic_authorization_failed,
                         error_message="Authorization failed.")
            responses.append(entry)
            continue
        if info is not None and broker.quotas.active and mutation_throttle(ctx, info.partitions) \
                and ctx.api_version >= 5:
            entry.update(error_code=ErrorCode.throttling_quota_exceeded,
                         error_message="The throttling quota has been exceeded.")
            responses.append(entry)
            continue
        try:
            broker.delete_topic(name)
        except TopicError as exc:
            entry.update(error_code=exc.code, error_message=exc.message)
        responses.append(entry)
    return {"responses": responses, "throttle_time": ctx.session.mute_ms}
