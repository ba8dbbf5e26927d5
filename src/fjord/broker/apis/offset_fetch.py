"""OffsetFetch (9): committed offsets of a group; topics=null means all of the group's.

Versions: v1-v10

Version notes:
* v0: removed by KIP-896 - not served
* v2: top-level error_code; topics=null means all topics of the group
* v3: throttle_time_ms
* v4: same as v3
* v5: committed_leader_epoch
* v6: flexible versions
* v7: require_stable - ignored: offsets of open transactions are never visible here
* v8: a batch of groups (KIP-709)
* v9: member_id and member_epoch for KIP-848 groups
* v10: topics by topic_id

v1-7 ask for one group, v8+ for a batch of groups (KIP-709), v10 names topics by id.
A partition without a committed offset answers -1, as Kafka does.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import group_denied
from fjord.broker.state import BrokerState
from fjord.security.acls import Op, ResourceType


def _partition(index: int, found: Any) -> dict[str, Any]:
    if found is None:
        return {"partition_index": index, "committed_offset": -1, "committed_leader_epoch": -1,
                "metadata": "", "error_code": ErrorCode.none}
    return {"partition_index": index, "committed_offset": found.offset,
            "committed_leader_epoch": found.leader_epoch, "metadata": found.metadata,
            "error_code": ErrorCode.none}


def _group_topics(ctx: RequestContext, group_id: str, topics: Any) -> list[dict[str, Any]]:
    broker: BrokerState = ctx.broker
    committed = coordinator(ctx).fetch(group_id)
    answer = []
    if topics is None:
        by_topic: dict[str, list[int]] = {}
        for topic_name, partition in sorted(committed):
            by_topic.setdefault(topic_name, []).append(partition)
        for topic_name, partitions in by_topic.items():
            found = broker.metadata.topics.get(topic_name)
            answer.append({"name": topic_name, "topic_id": found.topic_id if found else None,
                           "partitions": [_partition(p, committed[(topic_name, p)])
                                          for p in partitions]})
        return answer
    for topic in topics:
        topic_id = getattr(topic, "topic_id", None)
        name: str = getattr(topic, "name", None) or ""
        if topic_id is not None and not name:
            info = broker.metadata.by_id(topic_id)
            name = info.name if info else ""
        answer.append({"name": name, "topic_id": topic_id,
                       "partitions": [_partition(p, committed.get((name, p)))
                                      for p in topic.partition_indexes]})
    return answer


def _visible(ctx: RequestContext, topics: list[dict[str, Any]], asked: bool) -> list[dict[str, Any]]:
    """Topics the principal cannot DESCRIBE: left out of "all", TOPIC_AUTHORIZATION_FAILED
    when named."""
    kept = []
    for topic in topics:
        if ctx.allowed(Op.DESCRIBE, ResourceType.TOPIC, topic["name"], log_denied=asked):
            kept.append(topic)
        elif asked:
            for part in topic["partitions"]:
                part.update(committed_offset=-1, error_code=ErrorCode.topic_authorization_failed)
            kept.append(topic)
    return kept


@api(9, "OffsetFetch", 1, 10)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if ctx.broker.authorizer is not None:
        return _authorized(ctx, request)
    if ctx.api_version < 8:
        return {"topics": _group_topics(ctx, request.group_id, request.topics),
                "error_code": ErrorCode.none}
    return {"groups": [
        {"group_id": group.group_id, "error_code": ErrorCode.none,
         "topics": _group_topics(ctx, group.group_id, group.topics)}
        for group in request.groups
    ]}


def _authorized(ctx: RequestContext, request: Any) -> dict[str, Any]:
    def one(group_id: str, topics: Any) -> tuple[ErrorCode, list[dict[str, Any]]]:
        if group_denied(ctx, Op.DESCRIBE, group_id):
            return ErrorCode.group_authorization_failed, []
        return ErrorCode.none, _visible(ctx, _group_topics(ctx, group_id, topics), topics is not None)

    if ctx.api_version < 8:
        code, found = one(request.group_id, request.topics)
        return {"topics": found, "error_code": code}
    groups = []
    for group in request.groups:
        code, found = one(group.group_id, group.topics)
        groups.append({"group_id": group.group_id, "error_code": code, "topics": found})
    return {"groups": groups}
