"""DescribeCluster (60): the one broker, which is also the controller.

Versions: v0-v1

Version notes:
* v0: the one broker, which is also the controller; authorized operations on request
* v1: endpoint_type (brokers or controllers); both answer this node
"""

from __future__ import annotations

from typing import Any

from fjord.broker.apis.metadata import NOT_REQUESTED
from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.security.acls import CLUSTER_NAME, ResourceType


@api(60, "DescribeCluster", 0, 1)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    return {
        "error_code": 0, "error_message": None,
        "endpoint_type": getattr(request, "endpoint_type", 1),
        "cluster_id": broker.metadata.cluster_id, "controller_id": broker.node_id,
        "brokers": [{"broker_id": broker.node_id, "host": ctx.endpoint[0], "port": ctx.endpoint[1],
                     "rack": None}],
        "cluster_authorized_operations": broker.authorizer.operations(
            ctx.session.principal, ctx.client_host, ResourceType.CLUSTER, CLUSTER_NAME)
        if broker.authorizer is not None and getattr(request, "include_cluster_authorized_operations", False)
        else NOT_REQUESTED,
    }
