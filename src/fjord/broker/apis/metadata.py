"""Metadata (3): this broker, and the topics asked for (all when the list is null).

Versions: v0-v12

Version notes:
* v1: rack, controller_id, is_internal
* v2: cluster_id
* v3: throttle_time_ms
* v4: allow_auto_topic_creation
* v5: offline_replicas (always empty)
* v6: same as v5
* v7: leader_epoch per partition
* v8: include_cluster/topic_authorized_operations (INT32_MIN when not asked for)
* v9: flexible versions
* v10: topic_id in request and response (topics may be named by id)
* v11: cluster authorized operations dropped (use DescribeCluster)
* v12: same as v11 (a null topic name with an id is allowed)

Topics are auto-created here when the client allows it and auto.create.topics.enable is
on, as Kafka does; every partition is led by this node.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.state import BrokerState, TopicError
from fjord.metadata.store import TopicInfo
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType

NOT_REQUESTED = -(2**31)  # Kafka's encoding of "authorized operations not requested"


def topic_entry(broker: BrokerState, info: TopicInfo, operations: int = NOT_REQUESTED) -> dict[str, Any]:
    node = broker.node_id
    return {
        "error_code": 0,
        "name": info.name,
        "topic_id": info.topic_id,
        "is_internal": info.internal,
        "partitions": [
            {"error_code": 0, "partition_index": p, "leader_id": node, "leader_epoch": 0,
             "replica_nodes": [node], "isr_nodes": [node], "offline_replicas": []}
            for p in range(info.partitions)
        ],
        "topic_authorized_operations": operations,
    }


def error_entry(name: str | None, code: ErrorCode, topic_id: Any = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"error_code": code, "name": name, "partitions": [],
                             "topic_authorized_operations": NOT_REQUESTED}
    if topic_id is not None:
        entry["topic_id"] = topic_id
    return entry


@api(3, "Metadata", 0, 12)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    if broker.authorizer is not None:
        return authorized_metadata(ctx, request)
    requested = request.topics
    if requested is None or (ctx.api_version == 0 and not requested):
        topics = [topic_entry(broker, info) for info in broker.metadata.topics.values()]
    else:
        allow_create = getattr(request, "allow_auto_topic_creation", True)
        topics = []
        for item in requested:
            name = item.name
            if name is None:
                info = broker.metadata.by_id(item.topic_id)
                if info is None:
                    topics.append(error_entry(None, ErrorCode.unknown_topic_id, item.topic_id))
                else:
                    topics.append(topic_entry(broker, info))
                continue
            found = broker.metadata.topics.get(name)
            if found is None and allow_create:
                try:
                    found = broker.auto_create(name)
                except TopicError as exc:
                    topics.append(error_entry(name, exc.code))
                    continue
            if found is None:
                topics.append(error_entry(name, ErrorCode.unknown_topic_or_partition))
            else:
                topics.append(topic_entry(broker, found))
    return answer(ctx, topics, NOT_REQUESTED)


def answer(ctx: RequestContext, topics: list[dict[str, Any]], cluster_ops: int) -> dict[str, Any]:
    """This broker at the address of the listener the request came through, and the topics."""
    broker = ctx.broker
    return {
        "brokers": [{"node_id": broker.node_id, "host": ctx.endpoint[0], "port": ctx.endpoint[1],
                     "rack": None}],
        "cluster_id": broker.metadata.cluster_id,
        "controller_id": broker.node_id,
        "topics": topics,
        "cluster_authorized_operations": cluster_ops,
    }


def authorized_metadata(ctx: RequestContext, request: Any) -> dict[str, Any]:
    """Metadata under an authorizer: topics the principal cannot DESCRIBE are left out of
    "all topics" and answered TOPIC_AUTHORIZATION_FAILED when named (never revealed);
    auto-creation needs CREATE on the cluster or the topic, as in Kafka."""
    broker = ctx.broker
    authorizer = broker.authorizer
    assert authorizer is not None
    principal, host = ctx.session.principal, ctx.client_host
    want_ops = getattr(request, "include_topic_authorized_operations", False)

    def entry(info: TopicInfo) -> dict[str, Any]:
        ops = (authorizer.operations(principal, host, ResourceType.TOPIC, info.name) if want_ops
               else NOT_REQUESTED)
        return topic_entry(broker, info, ops)

    requested = request.topics
    topics = []
    if requested is None or (ctx.api_version == 0 and not requested):
        for info in broker.metadata.topics.values():
            if ctx.allowed(Op.DESCRIBE, ResourceType.TOPIC, info.name, log_denied=False):
                topics.append(entry(info))
    else:
        allow_create = getattr(request, "allow_auto_topic_creation", True)
        for item in requested:
            found = broker.metadata.topics.get(item.name) if item.name is not None else (
                broker.metadata.by_id(item.topic_id))
            name = item.name if item.name is not None else (found.name if found else None)
            if name is not None and not ctx.allowed(Op.DESCRIBE, ResourceType.TOPIC, name):
                topics.append(error_entry(item.name, ErrorCode.topic_authorization_failed, item.topic_id))
                continue
            if found is None and item.name is not None and allow_create and (
                    ctx.allowed(Op.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False)
                    or ctx.allowed(Op.CREATE, ResourceType.TOPIC, item.name)):
                try:
                    found = broker.auto_create(item.name)
                except TopicError as exc:
                    topics.append(error_entry(item.name, exc.code))
                    continue
            if found is None:
                code = (ErrorCode.unknown_topic_id if item.name is None
                        else ErrorCode.unknown_topic_or_partition)
                topics.append(error_entry(item.name, code, item.topic_id))
            else:
                topics.append(entry(found))
    cluster_ops = NOT_REQUESTED
    if getattr(request, "include_cluster_authorized_operations", False):
        cluster_ops = authorizer.operations(principal, host, ResourceType.CLUSTER, CLUSTER_NAME)
    return answer(ctx, topics, cluster_ops)
