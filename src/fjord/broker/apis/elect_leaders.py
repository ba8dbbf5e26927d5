"""ElectLeaders (43): with one replica per partition the leader is always the preferred one,
so every existing partition answers ELECTION_NOT_NEEDED, as a stable Kafka cluster does.

Versions: v0-v2

Version notes:
* v1: election_type (preferred or unclean) and a top-level error_code
* v2: flexible versions
* with one replica per partition every election answers ELECTION_NOT_NEEDED
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import cluster_denied
from fjord.security.acls import Op


@api(43, "ElectLeaders", 0, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    wanted = request.topic_partitions
    if cluster_denied(ctx, Op.ALTER):
        code = ErrorCode.cluster_authorization_failed
        return {"error_code": code, "replica_election_results": [
            {"topic": item.topic, "partition_result": [
                {"partition_id": p, "error_code": code, "error_message": None} for p in item.partitions]}
            for item in wanted or []]}
    if wanted is None:
        pairs = [(name, list(range(info.partitions))) for name, info in broker.metadata.topics.items()]
    else:
        pairs = [(item.topic, list(item.partitions)) for item in wanted]
    results = []
    for topic, partitions in pairs:
        outcome = []
        for partition in partitions:
            if broker.partition(topic, partition) is None:
                outcome.append({"partition_id": partition,
                                "error_code": ErrorCode.unknown_topic_or_partition,
                                "error_message": "This server does not host this topic-partition."})
            else:
                outcome.append({"partition_id": partition, "error_code": ErrorCode.election_not_needed,
                                "error_message": "Leader election not needed for topic partition."})
        results.append({"topic": topic, "partition_result": outcome})
    return {"error_code": 0, "replica_election_results": results}
