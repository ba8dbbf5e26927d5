"""REST details beyond the walkthrough: initial_state, PATCH config, expand, plugin kinds,
loggers, config providers, task status 404s."""

from __future__ import annotations

from pathlib import Path

from tests.connect.support import WorkerProcess, wait_until
from tests.support.broker import BrokerProcess


def test_rest_details(connect_broker: BrokerProcess, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.properties"
    secrets.write_text(f"input.file={tmp_path / 'in.txt'}\n")
    (tmp_path / "in.txt").write_text("a\n")
    worker = WorkerProcess(tmp_path / "w", connect_broker.bootstrap, props={
        "config.providers": "file",
        "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
    }).start()
    try:
        status, info = worker.call("POST", "/connectors", {
            "name": "r-src", "initial_state": "STOPPED",
            "config": {"connector.class": "FileStreamSource",
                       "file": "${file:" + str(secrets) + ":input.file}", "topic": "r-topic"}})
        assert status == 201, info
        assert info["config"]["file"].startswith("${file:")  # stored unresolved
        status, body = worker.call("GET", "/connectors/r-src/status")
        assert body["connector"]["state"] == "STOPPED" and body["tasks"] == []

        status, info = worker.call("PATCH", "/connectors/r-src/config", {"batch.size": "5",
                                                                         "topic": "r-topic2"})
        assert status == 200 and info["config"]["batch.size"] == "5"
        assert info["config"]["topic"] == "r-topic2"
        status, info = worker.call("PATCH", "/connectors/r-src/config", {"batch.size": None})
        assert "batch.size" not in info["config"]
        status, info = worker.call("PUT", "/connectors/r-new/config", {
            "connector.class": "FileStreamSink", "topics": "r-topic2",
            "file": str(tmp_path / "out.txt")})
        assert status == 201 and info["name"] == "r-new"
        status, info = worker.call("PUT", "/connectors/r-new/config", {
            "connector.class": "FileStreamSink", "topics": "r-topic2",
            "file": str(tmp_path / "out.txt"), "name": "other"})
        assert status == 400 and "doesn't match" in info["message"]

        assert worker.call("PUT", "/connectors/r-src/resume")[0] == 202
        wait_until(lambda: (tmp_path / "out.txt").exists()
                   and (tmp_path / "out.txt").read_text() == "a\n", message="provider-resolved file")
        status, both = worker.call("GET", "/connectors?expand=status&expand=info")
        assert set(both["r-src"]) == {"status", "info"}
        assert both["r-src"]["info"]["type"] == "source"

        status, kinds = worker.call("GET", "/connector-plugins?connectorsOnly=false")
        by_type = {p["type"] for p in kinds}
        assert {"source", "sink", "transformation", "predicate", "converter"} <= by_type
        assert any(p["class"] == "org.apache.kafka.connect.transforms.Cast$Value" for p in kinds)

        status, body = worker.call("GET", "/connectors/r-src/tasks/7/status")
        assert status == 404 and body["error_code"] == 404
        status, changed = worker.call("PUT", "/admin/loggers/fjord.connect", {"level": "DEBUG"})
        assert status == 200 and "fjord.connect" in changed
        level = worker.call("GET", "/admin/loggers/fjord.connect")[1]
        assert level["level"] == "DEBUG" and isinstance(level["last_modified"], int)
        status, body = worker.call("PUT", "/admin/loggers/fjord.connect", {"level": "LOUD"})
        assert status == 404  # Kafka's answer to an unknown level
        status, body = worker.call("GET", "/no/such/path")
        assert status == 404 and body == {"error_code": 404, "message": "HTTP 404 Not Found"}
    finally:
        worker.stop()


def test_source_topic_creation_settings(connect_broker: BrokerProcess,
                                        standalone_worker: WorkerProcess, tmp_path: Path) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    source = tmp_path / "tc.txt"
    source.write_text("one\n")
    status, body = standalone_worker.call("POST", "/connectors", {"name": "tc-src", "config": {
        "connector.class": "FileStreamSource", "file": str(source), "topic": "tc-compacted-1",
        "topic.creation.default.partitions": "3", "topic.creation.default.replication.factor": "1",
        "topic.creation.groups": "compacted",
        "topic.creation.compacted.include": "tc-compacted-.*",
        "topic.creation.compacted.partitions": "2",
        "topic.creation.compacted.cleanup.policy": "compact"}})
    assert status == 201, body
    admin = AdminClient({"bootstrap.servers": connect_broker.bootstrap})

    def created() -> bool:
        topic = admin.list_topics(timeout=5).topics.get("tc-compacted-1")
        return topic is not None and not topic.error and len(topic.partitions) == 2
    wait_until(created, message="topic created with the group's settings")
    resource = ConfigResource(ConfigResource.Type.TOPIC, "tc-compacted-1")
    configs = admin.describe_configs([resource])[resource].result(10)
    assert configs["cleanup.policy"].value == "compact"
    assert standalone_worker.call("DELETE", "/connectors/tc-src")[0] == 204


def test_initial_state_in_distributed_mode(distributed_worker: WorkerProcess, tmp_path: Path) -> None:
    worker = distributed_worker
    wait_until(lambda: worker.call("GET", "/health")[0] == 200, message="worker joined")
    (tmp_path / "p.txt").write_text("x\n")
    status, body = worker.call("POST", "/connectors", {
        "name": "born-paused", "initial_state": "PAUSED",
        "config": {"connector.class": "FileStreamSource", "file": str(tmp_path / "p.txt"),
                   "topic": "born-paused"}})
    assert status == 201, body
    wait_until(lambda: worker.call("GET", "/connectors/born-paused/status")[1]["connector"][
        "state"] == "PAUSED", message="PAUSED from the start")
    status, body = worker.call("GET", "/connectors/born-paused/offsets")
    assert status == 200 and body == {"offsets": []}  # paused before reading anything
    assert worker.call("DELETE", "/connectors/born-paused")[0] == 204
