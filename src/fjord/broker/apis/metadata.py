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

NOT_REQUESTED = -(2**31)  # Kafka's encoding of "authorized operations not requested"


def topic_entry(broker: BrokerState, info: TopicInfo) -> dict[str, Any]:
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
        "topic_authorized_operations": NOT_REQUESTED,
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
    return {
        "brokers": [{"node_id": broker.node_id, "host": broker.host, "port": broker.port,
                     "rack": None}],
        "cluster_id": broker.metadata.cluster_id,
        "controller_id": broker.node_id,
        "topics": topics,
        "cluster_authorized_operations": NOT_REQUESTED,
    }
