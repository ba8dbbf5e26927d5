"""CreateTopics (19): new topics with partitions, replication factor 1 and config overrides.

Versions: v2-v7

Version notes:
* v0-v1: removed by KIP-896 - not served
* v3: same as v2
* v4: default partitions and replication factor (-1) allowed (KIP-464)
* v5: flexible versions; the response carries the topic's configs, partitions and factor
* v6: same as v5 (quota errors)
* v7: topic_id in the response
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.apis.describe_configs import topic_configs
from fjord.broker.context import RequestContext
from fjord.broker.limits import PartitionBudget
from fjord.broker.registry import api
from fjord.broker.security import mutation_throttle
from fjord.broker.state import TopicError
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType


@api(19, "CreateTopics", 2, 7)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    try:
        with ctx.broker.topic_batch() as failed:  # one metadata fsync for the whole request
            _create_each(ctx, request, results)
    except OSError as exc:  # the shared fsync failed: none of them is known durable
        failed = {r["name"]: f"Cannot create topic: {exc}" for r in results}
    for result in results:
        if result["name"] in failed and result["error_code"] == 0 and not request.validate_only:
            result["error_code"] = ErrorCode.kafka_storage_error
            result["error_message"] = failed[result["name"]]
            result.pop("topic_id", None)
            result["configs"] = None
    return {"topics": results, "throttle_time": ctx.session.mute_ms}


def _create_each(ctx: RequestContext, request: Any, results: list[dict[str, Any]]) -> None:
    broker = ctx.broker
    budget = PartitionBudget()
    for topic in request.topics:
        partitions, replication = topic.num_partitions, topic.replication_factor
        result: dict[str, Any] = {"name": topic.name, "error_code": 0, "error_message": None,
                                  "num_partitions": -1, "replication_factor": -1, "configs": None}
        try:
            if broker.authorizer is not None and not (
                    ctx.allowed(Op.CREATE, ResourceType.CLUSTER, CLUSTER_NAME, log_denied=False)
                    or ctx.allowed(Op.CREATE, ResourceType.TOPIC, topic.name)):
                raise TopicError(ErrorCode.topic_authorization_failed,
                                 "Authorization failed.")
            if topic.assignments:
                if partitions != -1 or replication != -1:
                    raise TopicError(ErrorCode.invalid_request,
                                     "Both numPartitions or replicationFactor and "
                                     "replicasAssignments were set. Both cannot be used at the same time.")
                nodes = {b for a in topic.assignments for b in a.broker_ids}
                if nodes - {broker.node_id}:
                    raise TopicError(ErrorCode.invalid_replica_assignment,
                                     f"Unknown broker(s) {sorted(nodes - {broker.node_id})} in assignment")
                partitions = len(topic.assignments)
                replication = max(len(a.broker_ids) for a in topic.assignments)
            if broker.quotas.active and not request.validate_only:
                count = partitions if partitions != -1 else int(broker.config.get("num.partitions"))
                if mutation_throttle(ctx, count) and ctx.api_version >= 6:
                    raise TopicError(ErrorCode.throttling_quota_exceeded,
                                     "The throttling quota has been exceeded.")
            budget.take(partitions if partitions != -1 else int(broker.config.get("num.partitions")))
            configs = {c.name: c.value for c in topic.configs}
            info = broker.create_topic(topic.name, partitions, replication, configs,
                                       request.validate_only)
            result["num_partitions"] = info.partitions if info else (
                partitions if partitions != -1 else broker.config.get("num.partitions"))
            result["replication_factor"] = 1
            if info is not None:
                result["topic_id"] = info.topic_id
                result["configs"] = [
                    {"name": c["name"], "value": c["value"], "read_only": c["read_only"],
                     "config_source": c["config_source"], "is_sensitive": False}
                    for c in topic_configs(broker, info, None, False)
                ]
        except TopicError as exc:
            result["error_code"] = exc.code
            result["error_message"] = exc.message
        results.append(result)
