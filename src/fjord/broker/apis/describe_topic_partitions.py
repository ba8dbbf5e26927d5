"""DescribeTopicPartitions (75): Metadata's topic answer with paging (KIP-966), which newer
Java admin clients use for describeTopics. Topics come in name order; the cursor and
response_partition_limit page through partitions.

Versions: v0-v0

Version notes:
* v0: KIP-966 paging by cursor and response_partition_limit; the only version
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.apis.metadata import NOT_REQUESTED
from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import topic_denied
from fjord.security.acls import Op


@api(75, "DescribeTopicPartitions", 0, 0)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    node = broker.node_id
    names = sorted(t.name for t in request.topics) if request.topics else sorted(broker.metadata.topics)
    if not request.topics and broker.authorizer is not None:  # all topics: only describable ones
        names = [n for n in names if not topic_denied(ctx, Op.DESCRIBE, n)]
    cursor = request.cursor
    if cursor is not None:
        names = [n for n in names if n >= cursor.topic_name]
    budget = request.response_partition_limit
    topics: list[dict[str, Any]] = []
    next_cursor = None
    for name in names:
        info = broker.metadata.topics.get(name)
        if topic_denied(ctx, Op.DESCRIBE, name):  # never says whether the topic exists
            topics.append({"error_code": ErrorCode.topic_authorization_failed, "name": name,
                           "partitions": [], "topic_authorized_operations": NOT_REQUESTED})
            continue
        if info is None:
            topics.append({"error_code": ErrorCode.unknown_topic_or_partition, "name": name,
                           "partitions": [], "topic_authorized_operations": NOT_REQUESTED})
            continue
        start = cursor.partition_index if cursor is not None and cursor.topic_name == name else 0
        partitions = []
        for index in range(start, info.partitions):
            if budget <= 0:
                next_cursor = {"topic_name": name, "partition_index": index}
                break
            partitions.append({"error_code": 0, "partition_index": index, "leader_id": node,
                               "leader_epoch": 0, "replica_nodes": [node], "isr_nodes": [node],
                               "eligible_leader_replicas": [], "last_known_elr": [],
                               "offline_replicas": []})
            budget -= 1
        topics.append({"error_code": 0, "name": name, "topic_id": info.topic_id,
                       "is_internal": info.internal, "partitions": partitions,
                       "topic_authorized_operations": NOT_REQUESTED})
        if next_cursor is not None:
            break
    return {"topics": topics, "next_cursor": next_cursor}
