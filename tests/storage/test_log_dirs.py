"""Log directory identity and the never-delete-what-you-cannot-prove rule, with real
broker processes: reordered log.dirs, foreign directories, a lost metadata copy, another
cluster's directory, an older Fjord's data dir, and Kafka's delayed topic deletion."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from tests.support import messages
from tests.support.broker import BrokerProcess, free_port
from tests.support.wait import wait_until

CONFIGS = {"retention.ms": "123456789", "cleanup.policy": "compact"}
PER_PARTITION = 50


def start(dirs: list[Path], port: int, **overrides: str) -> BrokerProcess:
    return BrokerProcess(dirs[0], {"log.dirs": ",".join(map(str, dirs)), **overrides},
                         port=port, log_path=dirs[0].parent / f"broker-{port}.log").start()


def refused(dirs: list[Path], **overrides: str) -> subprocess.CompletedProcess[str]:
    """Run a broker that must refuse to start: it exits by itself, with its reason."""
    proc = BrokerProcess(dirs[0], {"log.dirs": ",".join(map(str, dirs)), **overrides})
    return subprocess.run(proc.command(), capture_output=True, text=True, timeout=60)


def create_and_fill(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, partitions, 1, config=CONFIGS)])[topic].result(15)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for partition in range(partitions):
        for i in range(PER_PARTITION):
            producer.produce(topic, key=b"k%d" % i, value=b"%s-%d-%d" % (topic.encode(), partition, i),
                             partition=partition)
    assert producer.flush(30) == 0


def state_of(bootstrap: str, topic: str) -> tuple[int, dict[str, str], list[tuple[int, int, bytes]]]:
    """(partitions, the configs we set, every record) as a client sees them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    meta = admin.list_topics(timeout=15).topics
    assert topic in meta, f"{topic} is gone: {sorted(meta)}"
    partitions = len(meta[topic].partitions)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(15)
    configs = {k: entries[k].value for k in CONFIGS}
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "log-dirs-check",
                         "enable.auto.commit": False})
    records: list[tuple[int, int, bytes]] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        deadline = time.monotonic() + 30
        while len(records) < partitions * PER_PARTITION and time.monotonic() < deadline:
            for msg in consumer.consume(500, 0.2):
                assert msg.error() is None, msg.error()
                records.append((messages.partition(msg), messages.offset(msg), messages.value(msg)))
    finally:
        consumer.close()
    return partitions, configs, sorted(records)


def test_reordered_log_dirs_keep_every_topic_config_and_record(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    port = free_port()
    broker = start([a, b], port)
    create_and_fill(broker.bootstrap, "orders", 4)
    before = state_of(broker.bootstrap, "orders")
    assert broker.stop() == 0
    # Partitions really are spread over both dirs, each with its identity files.
    assert {p.parent for p in tmp_path.glob("*/orders-*")} == {a, b}
    for directory in (a, b):
        meta = (directory / "meta.properties").read_text()
        assert "cluster.id=" in meta and "node.id=1" in meta and "directory.id=" in meta
    for partition_dir in tmp_path.glob("*/orders-*"):
        lines = (partition_dir / "partition.metadata").read_text().splitlines()
        assert lines[0] == "version: 0" and lines[1].startswith("topic_id: ")

    broker = start([b, a], port)
    try:
        assert state_of(broker.bootstrap, "orders") == before
        assert before[0] == 4 and before[1] == CONFIGS and len(before[2]) == 4 * PER_PARTITION
        assert "removing" not in broker.log_path.read_text()
    finally:
        assert broker.stop() == 0


def test_foreign_directories_are_left_alone(tmp_path: Path) -> None:
    a = tmp_path / "a"
    port = free_port()
    broker = start([a], port)
    create_and_fill(broker.bootstrap, "orders", 2)
    assert broker.stop() == 0
    foreign = {
        a / "photos-2024": b"holiday pictures",       # named like a partition of an unknown topic
        a / "orders-7": b"not a partition of orders",  # past the topic's partition count
        a / "misc-0.0123456789abcdef0123456789abcdef-delete": b"looks deleted, is not ours",
    }
    for directory, content in foreign.items():
        directory.mkdir()
        (directory / "notes.txt").write_bytes(content)
    broker = start([a], port)
    try:
        assert state_of(broker.bootstrap, "orders")[0] == 2
        log = broker.log_path.read_text()
    finally:
        assert broker.stop() == 0
    broker = start([a], port)  # and once more: still there
    assert broker.stop() == 0
    for directory, content in foreign.items():
        assert (directory / "notes.txt").read_bytes() == content, directory
        assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"], directory
        assert f"leaving {directory} alone" in log


def test_losing_one_metadata_copy_loses_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    port = free_port()
    broker = start([a, b], port)
    create_and_fill(broker.bootstrap, "orders", 3)
    before = state_of(broker.bootstrap, "orders")
    assert broker.stop() == 0
    (a / "fjord-metadata.log").unlink()
    broker = start([a, b], port)
    try:
        assert state_of(broker.bootstrap, "orders") == before
    finally:
        assert broker.stop() == 0
    assert (a / "fjord-metadata.log").exists(), "the lost copy is rewritten"


def test_a_log_dir_missing_from_log_dirs_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    port = free_port()
    broker = start([a, b], port)
    create_and_fill(broker.bootstrap, "orders", 4)
    before = state_of(broker.bootstrap, "orders")
    assert broker.stop() == 0
    # A corrupt metadata copy in one dir is outvoted by the other copy, not fatal.
    with open(a / "fjord-metadata.log", "r+b") as handle:
        handle.write(b"#garbage#")
    broker = start([a, b], port)
    try:
        assert state_of(broker.bootstrap, "orders") == before
    finally:
        assert broker.stop() == 0
    b_id = next(line.split("=", 1)[1] for line in (b / "meta.properties").read_text().splitlines()
                if line.startswith("directory.id="))
    result = refused([a])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and b_id in lines[0] and "missing" in lines[0], result.stderr
    broker = start([a, b], port)
    try:
        assert state_of(broker.bootstrap, "orders") == before
    finally:
        assert broker.stop() == 0


def test_losing_the_only_metadata_copy_refuses_to_start_and_deletes_nothing(tmp_path: Path) -> None:
    a = tmp_path / "a"
    port = free_port()
    broker = start([a], port)
    create_and_fill(broker.bootstrap, "orders", 2)
    assert broker.stop() == 0
    files_before = sorted(str(p.relative_to(a)) for p in a.rglob("*"))
    (a / "fjord-metadata.log").unlink()
    result = refused([a])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "fjord-metadata.log is missing" in lines[0], result.stderr
    files_after = sorted(str(p.relative_to(a)) for p in a.rglob("*"))
    assert files_after == [f for f in files_before if f != "fjord-metadata.log"]


def test_another_clusters_or_nodes_directory_is_refused(tmp_path: Path) -> None:
    a, other = tmp_path / "a", tmp_path / "other"
    port = free_port()
    for directory in (a, other):
        broker = start([directory], port)
        create_and_fill(broker.bootstrap, directory.name, 1)
        assert broker.stop() == 0
    result = refused([a, other])
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(other) in lines[0] and "cluster" in lines[0], result.stderr
    result = refused([a], **{"node.id": "7"})
    assert result.returncode == 2
    assert "node.id=7" in result.stderr and str(a) in result.stderr
    # Nothing was touched: each still starts on its own with its data.
    broker = start([other], port)
    try:
        assert len(state_of(broker.bootstrap, "other")[2]) == PER_PARTITION
    finally:
        assert broker.stop() == 0


def test_an_older_fjord_data_dir_is_adopted(tmp_path: Path) -> None:
    """The layout before meta.properties: one fjord-metadata.json in the first log dir,
    partition directories without partition.metadata."""
    a = tmp_path / "a"
    port = free_port()
    broker = start([a], port)
    create_and_fill(broker.bootstrap, "orders", 3)
    before = state_of(broker.bootstrap, "orders")
    assert broker.stop() == 0
    journal = [json.loads(line) for line in (a / "fjord-metadata.log").read_text().splitlines()]
    snapshot = journal[0]["snapshot"]  # then one change per line
    topics = {t["name"]: t for t in snapshot["topics"]}
    next_pid = snapshot["next_producer_id"]
    for change in journal[1:]:
        if change["op"] == "topic":
            topics[change["topic"]["name"]] = change["topic"]
        elif change["op"] == "pid":
            next_pid = change["next"]
    legacy = {"cluster_id": snapshot["cluster_id"], "next_producer_id": next_pid, "extra": {},
              "topics": list(topics.values())}
    (a / "fjord-metadata.json").write_text(json.dumps(legacy))
    for name in ("fjord-metadata.log", "meta.properties", "recovery-point-offset-checkpoint"):
        (a / name).unlink()
    for marker in a.glob("*/partition.metadata"):
        marker.unlink()

    broker = start([a], port)
    try:
        assert state_of(broker.bootstrap, "orders") == before
    finally:
        assert broker.stop() == 0
    assert (a / "meta.properties").exists() and (a / "fjord-metadata.log").exists()
    assert (a / "fjord-metadata.json.migrated").exists()
    assert len(list(a.glob("orders-*/partition.metadata"))) == 3


@pytest.mark.parametrize("across_restart", [False, True])
def test_topic_deletion_renames_then_removes_after_the_delay(tmp_path: Path,
                                                             across_restart: bool) -> None:
    a = tmp_path / "a"
    port = free_port()
    delay = "600000" if across_restart else "1500"
    broker = start([a], port, **{"log.segment.delete.delay.ms": delay})
    create_and_fill(broker.bootstrap, "doomed", 2)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.delete_topics(["doomed"])["doomed"].result(15)
    wait_until(lambda: not list(a.glob("doomed-[0-9]")), message="partition dirs renamed")
    renamed = list(a.glob("doomed-*-delete"))
    assert len(renamed) == 2, sorted(p.name for p in a.iterdir())
    # The name is free at once: a new topic of the same name gets fresh directories.
    admin.create_topics([NewTopic("doomed", 1, 1)])["doomed"].result(15)
    wait_until(lambda: (a / "doomed-0").is_dir(), message="the new topic's directory")
    if across_restart:
        assert broker.stop() == 0
        assert all(p.exists() for p in renamed), "nothing removed before the delay"
        broker = start([a], port, **{"log.segment.delete.delay.ms": "500"})
    try:
        wait_until(lambda: not any(p.exists() for p in renamed), message="the -delete dirs removed")
        assert (a / "doomed-0").is_dir()
    finally:
        assert broker.stop() == 0
    shutil.rmtree(a)


def test_a_partition_never_created_before_a_crash_is_created_empty(tmp_path: Path) -> None:
    """The topic record is durable before its directories exist: a crash in between leaves
    a partition in no log dir while every log dir is present. It is created, empty."""
    a = tmp_path / "a"
    port = free_port()
    broker = start([a], port)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fresh", 2, 1)])["fresh"].result(15)
    broker.kill()
    shutil.rmtree(a / "fresh-1")  # as if the crash came before it was made
    broker = start([a], port)
    try:
        meta = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=15)
        assert len(meta.topics["fresh"].partitions) == 2
        assert (a / "fresh-1" / "partition.metadata").exists()
        assert "created empty" in broker.log_path.read_text()
    finally:
        assert broker.stop() == 0
