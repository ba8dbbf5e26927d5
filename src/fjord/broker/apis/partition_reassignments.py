"""AlterPartitionReassignments (45) and ListPartitionReassignments (46) on one node.

AlterPartitionReassignments versions: v0-v0
ListPartitionReassignments versions: v0-v0

Version notes:
* AlterPartitionReassignments v0 and ListPartitionReassignments v0: the only versions
  (KIP-455); v1 of Alter (allow_replication_factor_change) is not served

The only replica set a partition can have is [this node]: asking for it succeeds as a
no-op, anything else is refused with the error Kafka gives for unknown brokers, and no
reassignment is ever in progress.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import cluster_denied
from fjord.security.acls import Op


@api(45, "AlterPartitionReassignments", 0, 0)
async def alter(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    if cluster_denied(ctx, Op.ALTER):
        return {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
                "responses": []}
    responses = []
    for topic in request.topics:
        partitions = []
        for part in topic.partitions:
            entry: dict[str, Any] = {"partition_index": part.partition_index, "error_code": 0,
                                     "error_message": None}
            if broker.partition(topic.name, part.partition_index) is None:
                entry.update(error_code=ErrorCode.unknown_topic_or_partition,
                             error_message="This server does not host this topic-partition.")
            elif part.replicas is None:
                entry.update(error_code=ErrorCode.no_reassignment_in_progress,
                             error_message="No reassignment is in progress.")
            elif list(part.replicas) != [broker.node_id]:
                entry.update(error_code=ErrorCode.invalid_replica_assignment,
                             error_message=f"Replicas {list(part.replicas)} are not "
                                           f"[{broker.node_id}], the only broker.")
            partitions.append(entry)
        responses.append({"name": topic.name, "partitions": partitions})
    return {"error_code": 0, "error_message": None, "responses": responses}


@api(46, "ListPartitionReassignments", 0, 0)
async def list_(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if cluster_denied(ctx, Op.DESCRIBE):
        return {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None, "topics": []}
    return {"error_code": 0, "error_message": None, "topics": []}
