"""Admin APIs whose answer is decided by having one node, through kafka-python's admin."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import ElectionNotNeededError, NoError
from kafka.structs import TopicPartitionReplica

from tests.support.broker import BrokerFactory, BrokerProcess


def test_elections_and_reassignments_are_single_node_no_ops(broker: BrokerProcess) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("single", 2, 1)])
    result = admin.elect_leaders(0, {"single": [0, 1]})
    codes = {p[0]: p[1] for p in result.replica_election_results[0][1]}
    assert codes == {0: ElectionNotNeededError.errno, 1: ElectionNotNeededError.errno}
    node = admin.describe_cluster()["brokers"][0]["broker_id"]
    tp = TopicPartition("single", 0)
    assert admin.alter_partition_reassignments({tp: [node]}) == {tp: None}
    assert admin.list_partition_reassignments() == {}
    described = admin.describe_topic_partitions(["single"])
    assert [p["partition_index"] for p in described["topics"][0]["partitions"]] == [0, 1]
    admin.close()


def test_partition_moves_between_log_dirs_with_its_data(broker_factory: BrokerFactory,
                                                        tmp_path: Path) -> None:
    first, second = tmp_path / "dir-a", tmp_path / "dir-b"
    broker = broker_factory({"log.dirs": f"{first},{second}"})
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    admin.create_topics([NewTopic("mover", 1, 1)])
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap)
    for i in range(50):
        producer.send("mover", b"v%d" % i)
    producer.flush()
    start = next(d for d in (first, second) if (d / "mover-0").exists())
    target = second if start == first else first
    node = admin.describe_cluster()["brokers"][0]["broker_id"]
    replica = TopicPartitionReplica("mover", 0, node)
    assert admin.alter_replica_log_dirs({replica: str(target)}) == {replica: NoError}
    assert (target / "mover-0").exists() and not (start / "mover-0").exists()
    for i in range(50, 60):
        producer.send("mover", b"v%d" % i)
    producer.flush()
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    consumer.assign([TopicPartition("mover", 0)])
    values = [m.value for m in consumer]
    assert values == [b"v%d" % i for i in range(60)]
    consumer.close()
    producer.close()
    admin.close()
