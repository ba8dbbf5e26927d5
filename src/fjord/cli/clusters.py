"""`fjord clusters`: MSK's cluster calls with aws-cli's verbs, against `fjord control`."""

from __future__ import annotations

import json
import time
from typing import Any

import typer

from fjord.cli.control import ENDPOINT, ApiClient, arn_path
from fjord.cli.output import fail, table

app = typer.Typer(no_args_is_help=True, help=__doc__)
CLUSTER = typer.Option(..., "--cluster-arn", help="The cluster's ARN, or its name.")


def show(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2))


def resolve(client: ApiClient, arn_or_name: str) -> str:
    if arn_or_name.startswith("arn:"):
        return arn_or_name
    found = [c for c in client.paged("/v1/clusters", "clusterInfoList", {"clusterNameFilter": arn_or_name})
             if c["clusterName"] == arn_or_name]
    if not found:
        fail(f"no cluster named {arn_or_name}")
    return str(found[0]["clusterArn"])


@app.command("create-cluster")
def create_cluster(
    cluster_name: str = typer.Option(..., "--cluster-name"),
    number_of_broker_nodes: int = typer.Option(1, "--number-of-broker-nodes"),
    kafka_version: str = typer.Option("3.9.x", "--kafka-version"),
    configuration_arn: str | None = typer.Option(None, "--configuration-arn"),
    configuration_revision: int = typer.Option(1, "--configuration-revision"),
    endpoint: str = ENDPOINT,
) -> None:
    """Create a local cluster: the control plane starts and supervises its broker."""
    body: dict[str, Any] = {"clusterName": cluster_name, "kafkaVersion": kafka_version,
                            "numberOfBrokerNodes": number_of_broker_nodes,
                            "brokerNodeGroupInfo": {"clientSubnets": ["local"],
                                                    "instanceType": "fjord.local"}}
    if configuration_arn:
        body["configurationInfo"] = {"arn": configuration_arn, "revision": configuration_revision}
    show(ApiClient(endpoint).call("POST", "/v1/clusters", body))


@app.command("register")
def register(
    cluster_name: str = typer.Option(..., "--cluster-name"),
    bootstrap_servers: str = typer.Option(..., "--bootstrap-servers"),
    connect_url: str | None = typer.Option(None, "--connect-url", help="Its Kafka Connect REST URL."),
    admin_url: list[str] = typer.Option([], "--admin-url", help="A Fjord broker's admin.listener URL."),
    schema_registry_url: str | None = typer.Option(None, "--schema-registry-url",
                                                   help="Its schema registry, to show Avro values."),
    client_property: list[str] = typer.Option([], "--client-property",
                                              help="key=value librdkafka setting (security)."),
    endpoint: str = ENDPOINT,
) -> None:
    """Register an existing Kafka-compatible cluster, managed through the Kafka protocol only."""
    props = dict(item.split("=", 1) for item in client_property if "=" in item)
    body = {"clusterName": cluster_name, "kafkaVersion": "external", "numberOfBrokerNodes": 1,
            "brokerNodeGroupInfo": {"clientSubnets": [], "instanceType": "external"},
            "fjordRegistered": {"bootstrapServers": bootstrap_servers, "clientProperties": props,
                                "connectUrl": connect_url, "adminUrls": admin_url,
                                "schemaRegistryUrl": schema_registry_url}}
    show(ApiClient(endpoint).call("POST", "/v1/clusters", body))


@app.command("list-clusters")
def list_clusters(cluster_name_filter: str | None = typer.Option(None, "--cluster-name-filter"),
                  endpoint: str = ENDPOINT) -> None:
    items = ApiClient(endpoint).paged("/v1/clusters", "clusterInfoList",
                                      {"clusterNameFilter": cluster_name_filter})
    table(["NAME", "STATE", "BROKERS", "CONFIGURATION", "ARN"],
          [[c["clusterName"], c["state"], c["numberOfBrokerNodes"],
            c["currentBrokerSoftwareInfo"].get("configurationRevision"), c["clusterArn"]] for c in items])


@app.command("describe-cluster")
def describe_cluster(cluster_arn: str = CLUSTER, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    show(client.call("GET", f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}"))


@app.command("get-bootstrap-brokers")
def get_bootstrap_brokers(cluster_arn: str = CLUSTER, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    doc = client.call("GET", f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}/bootstrap-brokers")
    typer.echo(doc["bootstrapBrokerString"])


@app.command("delete-cluster")
def delete_cluster(cluster_arn: str = CLUSTER, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    show(client.call("DELETE", f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}"))


@app.command("list-nodes")
def list_nodes(cluster_arn: str = CLUSTER, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    show(client.paged(f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}/nodes", "nodeInfoList"))


@app.command("list-cluster-operations")
def list_cluster_operations(cluster_arn: str = CLUSTER, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    items = client.paged(f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}/operations",
                         "clusterOperationInfoList")
    table(["TYPE", "STATE", "CREATED", "ARN"],
          [[o["operationType"], o["operationState"], o["creationTime"], o["operationArn"]] for o in items])


@app.command("describe-cluster-operation")
def describe_cluster_operation(cluster_operation_arn: str = typer.Option(..., "--cluster-operation-arn"),
                               endpoint: str = ENDPOINT) -> None:
    show(ApiClient(endpoint).call("GET", f"/v1/operations/{arn_path(cluster_operation_arn)}"))


@app.command("update-cluster-configuration")
def update_cluster_configuration(
    cluster_arn: str = CLUSTER,
    configuration_arn: str = typer.Option(..., "--configuration-arn"),
    revision: int = typer.Option(..., "--revision"),
    current_version: str | None = typer.Option(None, "--current-version",
                                               help="Optimistic lock; read from the cluster if omitted."),
    endpoint: str = ENDPOINT,
) -> None:
    """Apply a configuration revision (an older one rolls back)."""
    client = ApiClient(endpoint)
    arn = resolve(client, cluster_arn)
    if current_version is None:
        current_version = client.call("GET", f"/v1/clusters/{arn_path(arn)}")["clusterInfo"]["currentVersion"]
    show(client.call("PUT", f"/v1/clusters/{arn_path(arn)}/configuration",
                     {"currentVersion": current_version,
                      "configurationInfo": {"arn": configuration_arn, "revision": revision}}))


@app.command("reboot-broker")
def reboot_broker(cluster_arn: str = CLUSTER, broker_ids: str = typer.Option("1", "--broker-ids"),
                  endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    show(client.call("PUT", f"/v1/clusters/{arn_path(resolve(client, cluster_arn))}/reboot-broker",
                     {"brokerIds": broker_ids.split(",")}))


@app.command("wait")
def wait(cluster_arn: str = CLUSTER, timeout: float = typer.Option(300, "--timeout"),
         endpoint: str = ENDPOINT) -> None:
    """Wait until the cluster is ACTIVE, printing each state it passes through."""
    client = ApiClient(endpoint)
    arn = resolve(client, cluster_arn)
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        state = client.call("GET", f"/v1/clusters/{arn_path(arn)}")["clusterInfo"]["state"]
        if state != last:
            typer.echo(state)
            last = state
        if state == "ACTIVE":
            return
        if state == "FAILED":
            fail("the cluster FAILED: see `fjord clusters describe-cluster`")
        time.sleep(1)
    fail(f"the cluster was not ACTIVE within {timeout:.0f}s (state {last})")
