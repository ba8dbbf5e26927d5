"""The control plane's objects in MSK's JSON shapes (field names from botocore's MSK model)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from fjord.control.errors import BadRequest
from fjord.control.model import Cluster, Configuration, Operation, Revision

T = TypeVar("T")


def iso(stamp: float | None) -> str | None:
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def page(items: list[T], max_results: int | None, next_token: str | None) -> tuple[list[T], str | None]:
    """MSK's paging: an opaque nextToken (here the start index) and maxResults 1..100."""
    limit = 100 if max_results is None else max_results
    if not 1 <= limit <= 100:
        raise BadRequest("maxResults must be between 1 and 100", "maxResults")
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise BadRequest("nextToken is not a token this API returned", "nextToken") from None
        if start < 0:
            raise BadRequest("nextToken is not a token this API returned", "nextToken")
    chunk = items[start:start + limit]
    more = start + limit < len(items)
    token = base64.urlsafe_b64encode(str(start + limit).encode()).decode() if more else None
    return chunk, token


def listing(key: str, items: list[T], render: Callable[[T], dict[str, Any]], max_results: int | None,
            next_token: str | None) -> dict[str, Any]:
    """One page of a List* answer: `{key: [...], "nextToken": ...}` (the token only if more)."""
    chunk, token = page(items, max_results, next_token)
    out: dict[str, Any] = {key: [render(item) for item in chunk]}
    if token:
        out["nextToken"] = token
    return out


def software(cluster: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {"kafkaVersion": cluster.kafka_version}
    if cluster.configuration_arn:
        out["configurationArn"] = cluster.configuration_arn
        out["configurationRevision"] = cluster.configuration_revision
    return out


def cluster_info(cluster: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clusterArn": cluster.arn,
        "clusterName": cluster.name,
        "creationTime": iso(cluster.created),
        "currentVersion": cluster.current_version,
        "state": cluster.state,
        "numberOfBrokerNodes": cluster.broker_count,
        "brokerNodeGroupInfo": {"instanceType": cluster.instance_type,
                                "clientSubnets": cluster.client_subnets,
                                "brokerAZDistribution": "DEFAULT"},
        "currentBrokerSoftwareInfo": software(cluster),
        "enhancedMonitoring": cluster.enhanced_monitoring,
        "storageMode": cluster.storage_mode,
        "encryptionInfo": {"encryptionInTransit": {"clientBroker": "PLAINTEXT", "inCluster": False}},
        "clientAuthentication": {"unauthenticated": {"enabled": True}},
        "tags": cluster.tags,
    }
    if cluster.active_operation:
        out["activeOperationArn"] = cluster.active_operation
    if cluster.state_code or cluster.state_message:
        out["stateInfo"] = {"code": cluster.state_code, "message": cluster.state_message}
    return out


def node_info(cluster: Cluster, index: int) -> dict[str, Any]:
    host, _, _port = cluster.bootstrap.split(",")[index].rpartition(":")
    return {
        "addedToClusterTime": iso(cluster.node_added),
        "instanceType": cluster.instance_type,
        "nodeARN": f"{cluster.arn.replace(':cluster/', ':node/', 1)}/broker-{index + 1}",
        "nodeType": "BROKER",
        "brokerNodeInfo": {
            "brokerId": float(index + 1),
            "clientSubnet": cluster.client_subnets[0] if cluster.client_subnets else "local",
            "clientVpcIpAddress": host,
            "currentBrokerSoftwareInfo": software(cluster),
            "endpoints": [host],
        },
    }


def revision_info(rev: Revision) -> dict[str, Any]:
    return {"creationTime": iso(rev.created), "description": rev.description, "revision": rev.revision}


def configuration_info(config: Configuration) -> dict[str, Any]:
    return {
        "arn": config.arn,
        "name": config.name,
        "creationTime": iso(config.created),
        "description": config.description,
        "kafkaVersions": config.kafka_versions,
        "latestRevision": revision_info(config.latest),
        "state": config.state,
    }


def revision_detail(config: Configuration, rev: Revision) -> dict[str, Any]:
    return {
        "arn": config.arn,
        "creationTime": iso(rev.created),
        "description": rev.description,
        "revision": rev.revision,
        "serverProperties": base64.b64encode(rev.server_properties.encode("utf-8")).decode(),
    }


def operation_info(operation: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clusterArn": operation.cluster_arn,
        "creationTime": iso(operation.created),
        "operationArn": operation.arn,
        "operationState": operation.state,
        "operationType": operation.type,
        "operationSteps": [{"stepName": s.name, "stepInfo": {"stepStatus": s.status}}
                           for s in operation.steps],
    }
    if operation.ended is not None:
        out["endTime"] = iso(operation.ended)
    if operation.error_code:
        out["errorInfo"] = {"errorCode": operation.error_code, "errorString": operation.error_string}
    if operation.source_configuration:
        arn, rev = operation.source_configuration
        out["sourceClusterInfo"] = {"configurationInfo": {"arn": arn, "revision": rev}}
    if operation.target_configuration:
        arn, rev = operation.target_configuration
        out["targetClusterInfo"] = {"configurationInfo": {"arn": arn, "revision": rev}}
    return out
