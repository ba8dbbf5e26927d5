"""The authorization checks several APIs share, so each API module adds one line.

Every helper is called only when an authorizer is configured; without one the APIs skip
them after a single `is None` test.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.security.acls import Op, ResourceType


def denied_topics(ctx: RequestContext, op: int, names: list[str]) -> frozenset[str]:
    return frozenset(name for name in set(names) if not ctx.allowed(op, ResourceType.TOPIC, name))


def produce_denial(ctx: RequestContext, request: Any) -> dict[str, Any] | None:
    """A transactional producer needs WRITE on its transactional id (else every partition
    answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as in Kafka)."""
    txn = getattr(request, "transactional_id", None)
    if txn is None or ctx.allowed(Op.WRITE, ResourceType.TRANSACTIONAL_ID, txn):
        return None
    return {"responses": [
        {"name": topic.name, "partition_responses": [
            {"index": data.index, "error_code": ErrorCode.transactional_id_authorization_failed,
             "base_offset": -1, "log_append_time": -1, "log_start_offset": -1, "record_errors": [],
             "error_message": None} for data in topic.partition_data]}
        for topic in request.topic_data]}


def group_denied(ctx: RequestContext, op: int, group: str) -> bool:
    return ctx.broker.authorizer is not None and not ctx.allowed(op, ResourceType.GROUP, group)


def cluster_denied(ctx: RequestContext, op: int) -> bool:
    return ctx.broker.authorizer is not None and not ctx.allowed(op, ResourceType.CLUSTER, "kafka-cluster")


def init_denial(ctx: RequestContext, transactional_id: str | None) -> ErrorCode | None:
    """InitProducerId: WRITE on the transactional id; an idempotent producer needs
    IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679)."""
    if transactional_id is not None:
        if not ctx.allowed(Op.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
            return ErrorCode.transactional_id_authorization_failed
        return None
    authorizer = ctx.broker.authorizer
    assert authorizer is not None
    if ctx.allowed(Op.IDEMPOTENT_WRITE, ResourceType.CLUSTER, "kafka-cluster", log_denied=False):
        return None
    if authorizer.any_allowed(ctx.session.principal, ctx.client_host, Op.WRITE, ResourceType.TOPIC):
        return None
    return ErrorCode.cluster_authorization_failed


def mutation_throttle(ctx: RequestContext, partitions: int) -> int:
    """The controller mutation quota for creating or deleting `partitions` partitions: 0 to
    go ahead, else the throttle ms (the connection is muted for it, KIP-599)."""
    principal = ctx.session.principal
    user = principal.name if principal.type == "User" else ""
    throttle = ctx.broker.quotas.mutation(user, ctx.client_id or "", partitions)
    ctx.session.mute_ms = max(ctx.session.mute_ms, throttle)
    return throttle


def config_denial(ctx: RequestContext, resource_type: int, name: str, op: int) -> ErrorCode | None:
    """DescribeConfigs / AlterConfigs: DESCRIBE_CONFIGS or ALTER_CONFIGS on the topic, or on
    the cluster for broker and broker-logger resources; None when allowed."""
    if ctx.broker.authorizer is None:
        return None
    if resource_type == 2:  # TOPIC
        return None if ctx.allowed(op, ResourceType.TOPIC, name) else ErrorCode.topic_authorization_failed
    allowed = ctx.allowed(op, ResourceType.CLUSTER, "kafka-cluster")
    return None if allowed else ErrorCode.cluster_authorization_failed


def topic_denied(ctx: RequestContext, op: int, name: str) -> bool:
    return ctx.broker.authorizer is not None and not ctx.allowed(op, ResourceType.TOPIC, name)
