"""The compatibility gate of the control plane: boto3's own `kafka` (MSK) client, unchanged,
creates a local cluster, moves data through it, applies configuration revisions, and deletes it."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from tests.connect.support import wait_until
from tests.control.support import ControlProcess, broker_pids
from tests.support import messages
from tests.support.broker import BrokerProcess

NODE_GROUP = {"ClientSubnets": ["subnet-a"], "InstanceType": "kafka.m5.large"}


def wait_state(kafka: Any, arn: str, state: str, timeout: float = 90) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        info = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
        assert info["State"] != "FAILED", info
        return info if info["State"] == state else None

    found: dict[str, Any] = wait_until(check, timeout, 0.3, f"cluster {arn} {state}")
    return found


def broker_config(bootstrap: str, key: str) -> str | None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    resource = ConfigResource(ResourceType.BROKER, "1")
    configs = admin.describe_configs([resource])[resource].result(15)
    return configs[key].value if key in configs else None


def roundtrip(bootstrap: str, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for i in range(count):
        producer.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode())
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"g-{topic}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    seen: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(seen) < count and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            seen.append(messages.value(message))
    consumer.close()
    assert sorted(seen) == sorted(f"v{i}".encode() for i in range(count))


def test_local_cluster_lifecycle_with_boto3(control: ControlProcess) -> None:
    kafka = control.kafka()

    # A configuration is checked against the broker's own keys before it exists.
    with pytest.raises(kafka.exceptions.BadRequestException, match=r"log\.retention\.hourz"):
        kafka.create_configuration(Name="typo", ServerProperties=b"log.retention.hourz=3\n")
    with pytest.raises(kafka.exceptions.BadRequestException, match=r"num\.partitions"):
        kafka.create_configuration(Name="bad", ServerProperties=b"num.partitions=0\n")

    config = kafka.create_configuration(Name="base", Description="first",
                                        ServerProperties=b"num.partitions=2\nlog.retention.hours=100\n")
    assert config["LatestRevision"]["Revision"] == 1 and config["State"] == "ACTIVE"

    created = kafka.create_cluster(ClusterName="orders", KafkaVersion="3.9.x", NumberOfBrokerNodes=1,
                                   BrokerNodeGroupInfo=NODE_GROUP, Tags={"team": "payments"},
                                   ConfigurationInfo={"Arn": config["Arn"], "Revision": 1})
    arn = created["ClusterArn"]
    assert created["State"] == "CREATING" and created["ClusterName"] == "orders"
    info = wait_state(kafka, arn, "ACTIVE")
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] == 1
    assert info["Tags"] == {"team": "payments"}

    bootstrap = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
    roundtrip(bootstrap, "payments", 50)
    assert broker_config(bootstrap, "num.partitions") == "2"

    # Revision 2, listed and described.
    updated = kafka.update_configuration(Arn=config["Arn"], Description="second",
                                         ServerProperties=b"num.partitions=3\nlog.retention.hours=100\n")
    assert updated["LatestRevision"]["Revision"] == 2
    revisions = kafka.list_configuration_revisions(Arn=config["Arn"])["Revisions"]
    assert [r["Revision"] for r in revisions] == [1, 2]
    described = kafka.describe_configuration_revision(Arn=config["Arn"], Revision=2)
    assert described["ServerProperties"] == b"num.partitions=3\nlog.retention.hours=100\n"
    assert kafka.describe_configuration(Arn=config["Arn"])["LatestRevision"]["Revision"] == 2

    # Apply revision 2 while an acks=all idempotent producer writes: nothing acknowledged is lost.
    acked: list[int] = []
    failed: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                             "message.timeout.ms": 120000, "linger.ms": 5})
        i = 0

        def report(err: Any, msg: Any) -> None:
            if err is None:
                acked.append(int(msg.value()))
            else:
                failed.append(str(err))
        while not stop.is_set():
            producer.produce("during-apply", value=str(i).encode(), on_delivery=report)
            producer.poll(0.01)
            i += 1
        producer.flush(120)

    writer = threading.Thread(target=produce)
    writer.start()
    time.sleep(1)
    pids_before = broker_pids(control.data_dir / "clusters" / arn.rsplit("/", 1)[-1] /
                              "broker-1.properties")
    current = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    operation = kafka.update_cluster_configuration(
        ClusterArn=arn, CurrentVersion=current,
        ConfigurationInfo={"Arn": config["Arn"], "Revision": 2})["ClusterOperationArn"]
    # The version moved: the same CurrentVersion is now stale and refused.
    with pytest.raises(kafka.exceptions.BadRequestException, match="current version"):
        kafka.update_cluster_configuration(ClusterArn=arn, CurrentVersion=current,
                                           ConfigurationInfo={"Arn": config["Arn"], "Revision": 1})
    info = wait_state(kafka, arn, "ACTIVE", 120)
    time.sleep(1)
    stop.set()
    writer.join(180)
    op = kafka.describe_cluster_operation(ClusterOperationArn=operation)["ClusterOperationInfo"]
    assert op["OperationState"] == "UPDATE_COMPLETE", op
    assert op["OperationType"] == "UPDATE_CLUSTER_CONFIGURATION"
    assert op["TargetClusterInfo"]["ConfigurationInfo"] == {"Arn": config["Arn"], "Revision": 2}
    assert info["CurrentBrokerSoftwareInfo"]["ConfigurationRevision"] == 2
    assert broker_config(bootstrap, "num.partitions") == "3"
    pids_after = broker_pids(control.data_dir / "clusters" / arn.rsplit("/", 1)[-1] / "broker-1.properties")
    # num.partitions is a static broker key: applied by a rolling restart.
    assert pids_before and pids_after and pids_before != pids_after
    assert not failed, failed[:3]
    assert acked
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "check-apply",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["during-apply"])
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    while not set(acked) <= seen and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            seen.add(int(messages.value(message)))
    consumer.close()
    assert set(acked) <= seen, f"{len(set(acked) - seen)} acknowledged records lost"

    # Revision 3 changes a dynamic key only: applied live, the broker process is the same.
    kafka.update_configuration(Arn=config["Arn"],
                               ServerProperties=b"num.partitions=3\nlog.retention.hours=50\n")
    current = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    live = kafka.update_cluster_configuration(
        ClusterArn=arn, CurrentVersion=current,
        ConfigurationInfo={"Arn": config["Arn"], "Revision": 3})["ClusterOperationArn"]
    wait_state(kafka, arn, "ACTIVE", 120)
    op = kafka.describe_cluster_operation(ClusterOperationArn=live)["ClusterOperationInfo"]
    assert op["OperationState"] == "UPDATE_COMPLETE", op
    assert broker_config(bootstrap, "log.retention.hours") == "50"
    assert broker_pids(control.data_dir / "clusters" / arn.rsplit("/", 1)[-1] /
                       "broker-1.properties") == pids_after

    ops = kafka.list_cluster_operations(ClusterArn=arn)["ClusterOperationInfoList"]
    assert [o["OperationArn"] for o in ops[:2]] == [live, operation]

    # A configuration in use cannot be deleted.
    with pytest.raises(kafka.exceptions.BadRequestException, match="in use"):
        kafka.delete_configuration(Arn=config["Arn"])

    nodes = kafka.list_nodes(ClusterArn=arn)["NodeInfoList"]
    assert len(nodes) == 1 and nodes[0]["BrokerNodeInfo"]["BrokerId"] == 1.0
    assert nodes[0]["BrokerNodeInfo"]["Endpoints"] == ["127.0.0.1"]

    # A broker that dies is restarted: HEALING, then ACTIVE again.
    [pid] = pids_after
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["State"] == "HEALING",
               30, 0.05, "HEALING")
    wait_state(kafka, arn, "ACTIVE")
    roundtrip(bootstrap, "after-heal", 5)

    # Delete: the cluster goes away and its port is free again.
    port = int(bootstrap.rsplit(":", 1)[1])
    current = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]["CurrentVersion"]
    assert kafka.delete_cluster(ClusterArn=arn, CurrentVersion=current)["State"] == "DELETING"

    def gone() -> bool:
        try:
            kafka.describe_cluster(ClusterArn=arn)
            return False
        except kafka.exceptions.NotFoundException:
            return True
    wait_until(gone, 60, 0.3, "cluster deleted")
    with socket.socket() as sock:  # a new listener can take the port (as the broker binds it)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    kafka.delete_configuration(Arn=config["Arn"])
    with pytest.raises(kafka.exceptions.NotFoundException):
        kafka.describe_configuration(Arn=config["Arn"])


def test_lists_filters_pages_tags_and_registered_clusters(control: ControlProcess,
                                                          broker: BrokerProcess) -> None:
    import httpx

    kafka = control.kafka()
    for name in ("reg-a", "reg-b", "other"):
        response = httpx.post(control.url + "/v1/clusters", json={
            "clusterName": name, "kafkaVersion": "external", "numberOfBrokerNodes": 1,
            "brokerNodeGroupInfo": {"clientSubnets": [], "instanceType": "external"},
            "fjordRegistered": {"bootstrapServers": broker.bootstrap}})
        assert response.status_code == 200, response.text
    with pytest.raises(kafka.exceptions.ConflictException):
        kafka.create_cluster(ClusterName="reg-a", KafkaVersion="3.9.x", NumberOfBrokerNodes=1,
                             BrokerNodeGroupInfo=NODE_GROUP)
    names = [c["ClusterName"] for c in kafka.list_clusters(ClusterNameFilter="reg-")["ClusterInfoList"]]
    assert names == ["reg-a", "reg-b"]
    first = kafka.list_clusters(MaxResults=2)
    assert len(first["ClusterInfoList"]) == 2 and first["NextToken"]
    rest = kafka.list_clusters(MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    paged = [c["ClusterName"] for page in kafka.get_paginator("list_clusters").paginate(
        PaginationConfig={"PageSize": 1}) for c in page["ClusterInfoList"]]
    assert paged[:3] == ["reg-a", "reg-b", "other"]

    arn = first["ClusterInfoList"][0]["ClusterArn"]
    wait_state(kafka, arn, "ACTIVE")
    assert kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"] == broker.bootstrap
    kafka.tag_resource(ResourceArn=arn, Tags={"env": "test", "owner": "me"})
    kafka.untag_resource(ResourceArn=arn, TagKeys=["owner"])
    assert kafka.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}

    with pytest.raises(kafka.exceptions.NotFoundException):
        kafka.describe_cluster(ClusterArn=arn + "nope")
    with pytest.raises(kafka.exceptions.BadRequestException, match="multi-broker"):
        kafka.create_cluster(ClusterName="three", KafkaVersion="3.9.x", NumberOfBrokerNodes=3,
                             BrokerNodeGroupInfo=NODE_GROUP)
    for cluster in kafka.list_clusters()["ClusterInfoList"]:
        kafka.delete_cluster(ClusterArn=cluster["ClusterArn"])
    wait_until(lambda: not kafka.list_clusters()["ClusterInfoList"], 60, 0.3, "all deleted")
    assert broker.alive()  # deleting a registered cluster leaves its brokers alone
