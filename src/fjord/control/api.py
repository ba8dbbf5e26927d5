"""MSK's HTTP API (paths, JSON fields, states and error shapes of the `kafka` service), so that
boto3's own `kafka` client, the aws CLI and MSK tooling drive Fjord's control plane unchanged.

ARNs contain `/` and `:`; SDKs percent-encode them into one path segment, and the ASGI server
hands us the decoded path, so every route takes the ARN as a `path` parameter and the routes
with a suffix (`/nodes`, `/bootstrap-brokers`, ...) are declared before the bare ones.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from fjord.control import msk, properties
from fjord.control.errors import ApiError, BadRequest
from fjord.control.service import ControlPlane


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ConfigurationInfo(_Body):
    arn: str
    revision: int = Field(ge=1)


class BrokerNodeGroupInfo(_Body):
    clientSubnets: list[str] = []
    instanceType: str = "fjord.local"


class RegisteredCluster(_Body):
    """Fjord's extension to CreateCluster: manage an existing cluster through the Kafka protocol."""

    bootstrapServers: str
    clientProperties: dict[str, str] = {}
    connectUrl: str | None = None
    adminUrls: list[str] = []
    schemaRegistryUrl: str | None = None


class CreateClusterBody(_Body):
    clusterName: str = Field(min_length=1, max_length=64)
    kafkaVersion: str = Field(min_length=1, max_length=128)
    numberOfBrokerNodes: int = Field(ge=1, le=15)
    brokerNodeGroupInfo: BrokerNodeGroupInfo
    configurationInfo: ConfigurationInfo | None = None
    enhancedMonitoring: str = "DEFAULT"
    storageMode: str = "LOCAL"
    tags: dict[str, str] = {}
    fjordRegistered: RegisteredCluster | None = None


class UpdateClusterConfigurationBody(_Body):
    configurationInfo: ConfigurationInfo
    currentVersion: str


class RebootBrokerBody(_Body):
    brokerIds: list[str]


class UpdateBrokerCountBody(_Body):
    currentVersion: str
    targetNumberOfBrokerNodes: int = Field(ge=1, le=15)


class CreateConfigurationBody(_Body):
    name: str = Field(min_length=1, max_length=64)
    serverProperties: str
    description: str = ""
    kafkaVersions: list[str] = []


class UpdateConfigurationBody(_Body):
    serverProperties: str
    description: str = ""


class TagBody(_Body):
    tags: dict[str, str]


def _blob(text: str) -> str:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("serverProperties must be base64 (a blob)", "serverProperties") from None
    return properties.decode(raw)


MAX = Query(None, alias="maxResults")
TOKEN = Query(None, alias="nextToken")


def router(plane: ControlPlane) -> APIRouter:
    r = APIRouter()

    # ---- clusters ------------------------------------------------------------------------
    @r.post("/v1/clusters")
    async def create_cluster(body: CreateClusterBody) -> dict[str, Any]:
        config = ((body.configurationInfo.arn, body.configurationInfo.revision)
                  if body.configurationInfo else None)
        cluster = plane.create_cluster(
            body.clusterName, body.numberOfBrokerNodes, body.kafkaVersion,
            body.brokerNodeGroupInfo.instanceType, body.brokerNodeGroupInfo.clientSubnets, config,
            body.tags, body.enhancedMonitoring, body.storageMode,
            body.fjordRegistered.model_dump() if body.fjordRegistered else None)
        return {"clusterArn": cluster.arn, "clusterName": cluster.name, "state": cluster.state}

    @r.get("/v1/clusters")
    async def list_clusters(clusterNameFilter: str | None = None, maxResults: int | None = MAX,
                            nextToken: str | None = TOKEN) -> dict[str, Any]:
        return msk.listing("clusterInfoList", plane.list_clusters(clusterNameFilter), msk.cluster_info,
                           maxResults, nextToken)

    @r.get("/v1/clusters/{clusterArn:path}/bootstrap-brokers")
    async def bootstrap_brokers(clusterArn: str) -> dict[str, Any]:
        cluster = plane.cluster(clusterArn)
        if cluster.state in ("CREATING", "DELETING", "FAILED") and cluster.kind == "local":
            raise BadRequest(f"The cluster is {cluster.state}: bootstrap brokers are available once "
                             "it is ACTIVE", "clusterArn")
        return {"bootstrapBrokerString": cluster.bootstrap}

    @r.put("/v1/clusters/{clusterArn:path}/configuration")
    async def update_cluster_configuration(clusterArn: str,
                                           body: UpdateClusterConfigurationBody) -> dict[str, Any]:
        operation = plane.update_configuration(clusterArn, body.currentVersion,
                                               body.configurationInfo.arn, body.configurationInfo.revision)
        return {"clusterArn": clusterArn, "clusterOperationArn": operation.arn}

    @r.put("/v1/clusters/{clusterArn:path}/nodes/count")
    async def update_broker_count(clusterArn: str, body: UpdateBrokerCountBody) -> dict[str, Any]:
        operation = plane.update_broker_count(clusterArn, body.currentVersion,
                                              body.targetNumberOfBrokerNodes)
        return {"clusterArn": clusterArn, "clusterOperationArn": operation.arn}

    @r.get("/v1/clusters/{clusterArn:path}/nodes")
    async def list_nodes(clusterArn: str, maxResults: int | None = MAX,
                         nextToken: str | None = TOKEN) -> dict[str, Any]:
        cluster = plane.cluster(clusterArn)
        nodes = list(range(len(cluster.bootstrap.split(",")))) if cluster.bootstrap else []
        return msk.listing("nodeInfoList", nodes, lambda i: msk.node_info(cluster, i), maxResults, nextToken)

    @r.get("/v1/clusters/{clusterArn:path}/operations")
    async def list_cluster_operations(clusterArn: str, maxResults: int | None = MAX,
                                      nextToken: str | None = TOKEN) -> dict[str, Any]:
        return msk.listing("clusterOperationInfoList", plane.operations_of(clusterArn), msk.operation_info,
                           maxResults, nextToken)

    @r.put("/v1/clusters/{clusterArn:path}/reboot-broker")
    async def reboot_broker(clusterArn: str, body: RebootBrokerBody) -> dict[str, Any]:
        operation = plane.reboot_broker(clusterArn, body.brokerIds)
        return {"clusterArn": clusterArn, "clusterOperationArn": operation.arn}

    @r.get("/v1/clusters/{clusterArn:path}")
    async def describe_cluster(clusterArn: str) -> dict[str, Any]:
        return {"clusterInfo": msk.cluster_info(plane.cluster(clusterArn))}

    @r.delete("/v1/clusters/{clusterArn:path}")
    async def delete_cluster(clusterArn: str, currentVersion: str | None = None) -> dict[str, Any]:
        cluster = plane.delete_cluster(clusterArn, currentVersion)
        return {"clusterArn": cluster.arn, "state": cluster.state}

    @r.get("/v1/operations/{clusterOperationArn:path}")
    async def describe_cluster_operation(clusterOperationArn: str) -> dict[str, Any]:
        return {"clusterOperationInfo": msk.operation_info(plane.operation(clusterOperationArn))}

    # ---- configurations ------------------------------------------------------------------
    @r.post("/v1/configurations")
    async def create_configuration(body: CreateConfigurationBody) -> dict[str, Any]:
        config = plane.create_configuration(body.name, body.description, body.kafkaVersions,
                                            _blob(body.serverProperties))
        info = msk.configuration_info(config)
        return {k: info[k] for k in ("arn", "creationTime", "latestRevision", "name", "state")}

    @r.get("/v1/configurations")
    async def list_configurations(maxResults: int | None = MAX,
                                  nextToken: str | None = TOKEN) -> dict[str, Any]:
        configs = sorted(plane.store.configurations.values(), key=lambda c: c.created)
        return msk.listing("configurations", configs, msk.configuration_info, maxResults, nextToken)

    @r.get("/v1/configurations/{arn:path}/revisions/{revision}")
    async def describe_configuration_revision(arn: str, revision: int) -> dict[str, Any]:
        return msk.revision_detail(plane.configuration(arn), plane.revision(arn, revision))

    @r.get("/v1/configurations/{arn:path}/revisions")
    async def list_configuration_revisions(arn: str, maxResults: int | None = MAX,
                                           nextToken: str | None = TOKEN) -> dict[str, Any]:
        return msk.listing("revisions", plane.configuration(arn).revisions, msk.revision_info,
                           maxResults, nextToken)

    @r.get("/v1/configurations/{arn:path}")
    async def describe_configuration(arn: str) -> dict[str, Any]:
        return msk.configuration_info(plane.configuration(arn))

    @r.put("/v1/configurations/{arn:path}")
    async def update_configuration(arn: str, body: UpdateConfigurationBody) -> dict[str, Any]:
        rev = plane.update_configuration_revision(arn, body.description, _blob(body.serverProperties))
        return {"arn": arn, "latestRevision": msk.revision_info(rev)}

    @r.delete("/v1/configurations/{arn:path}")
    async def delete_configuration(arn: str) -> dict[str, Any]:
        config = plane.delete_configuration(arn)
        return {"arn": config.arn, "state": "DELETING"}

    # ---- tags ----------------------------------------------------------------------------
    @r.get("/v1/tags/{resourceArn:path}")
    async def list_tags_for_resource(resourceArn: str) -> dict[str, Any]:
        return {"tags": plane.tags_of(resourceArn)}

    @r.post("/v1/tags/{resourceArn:path}", status_code=204)
    async def tag_resource(resourceArn: str, body: TagBody) -> Response:
        plane.tags_of(resourceArn).update(body.tags)
        plane.changed(resourceArn)
        return Response(status_code=204)

    @r.delete("/v1/tags/{resourceArn:path}", status_code=204)
    async def untag_resource(resourceArn: str, tagKeys: list[str] = Query(...)) -> Response:
        tags = plane.tags_of(resourceArn)
        for key in tagKeys:
            tags.pop(key, None)
        plane.changed(resourceArn)
        return Response(status_code=204)

    return r


def error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers={"x-amzn-ErrorType": exc.kind})


def install(app: FastAPI, plane: ControlPlane) -> None:
    app.include_router(router(plane))

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or None
        message = f"{where}: {first.get('msg')}" if where else str(first.get("msg", "invalid request"))
        return error_response(BadRequest(message, where))
