"""A control plane that is killed takes its brokers with it, and one started on the same data
dir brings its clusters back on their ports with their data."""

from __future__ import annotations

import time
from pathlib import Path

from confluent_kafka import Consumer, Producer

from tests.connect.support import wait_until
from tests.control.support import ControlProcess, broker_pids
from tests.control.test_boto3_msk import NODE_GROUP, wait_state
from tests.support import messages


def test_clusters_survive_a_control_plane_crash(tmp_path: Path) -> None:
    control = ControlProcess(tmp_path / "data").start()
    try:
        kafka = control.kafka()
        arn = kafka.create_cluster(ClusterName="durable", KafkaVersion="3.9.x", NumberOfBrokerNodes=1,
                                   BrokerNodeGroupInfo=NODE_GROUP)["ClusterArn"]
        wait_state(kafka, arn, "ACTIVE")
        bootstrap = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"]
        producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        for i in range(20):
            producer.produce("kept", value=str(i).encode())
        assert producer.flush(30) == 0
        properties = control.data_dir / "clusters" / arn.rsplit("/", 1)[-1] / "broker-1.properties"
        assert broker_pids(properties)

        control.kill()
        wait_until(lambda: not broker_pids(properties), 30, 0.2, "the broker to stop with its control plane")

        control.start()
        kafka = control.kafka()
        wait_state(kafka, arn, "ACTIVE")
        assert kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerString"] == bootstrap
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "after-restart",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe(["kept"])
        seen: set[bytes] = set()
        deadline = time.monotonic() + 60
        while len(seen) < 20 and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                seen.add(messages.value(message))
        consumer.close()
        assert seen == {str(i).encode() for i in range(20)}
    finally:
        control.stop()
