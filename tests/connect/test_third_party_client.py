"""kafka-connect-py (a Connect REST client from PyPI) drives `fjord connect` unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from kafka_connect import KafkaConnect
from requests.exceptions import HTTPError

from tests.connect.support import WorkerProcess, read_lines, wait_until


def test_kafka_connect_py_lifecycle(standalone_worker: WorkerProcess, files: Path) -> None:
    client = KafkaConnect(url=standalone_worker.url)
    info = client.get_cluster_info()
    assert info["version"] and "commit" in info and info["kafka_cluster_id"]

    plugins = {p["class"] for p in client.list_connector_plugins()}
    assert "org.apache.kafka.connect.file.FileStreamSourceConnector" in plugins

    source_file = files / "in.txt"
    source_file.write_text("one\ntwo\n")
    sink_file = files / "out.txt"
    created = client.create_connector({"name": "tp-source", "config": {
        "connector.class": "FileStreamSource", "file": str(source_file), "topic": "tp-topic"}})
    assert created["name"] == "tp-source" and created["type"] == "source"
    client.create_connector({"name": "tp-sink", "config": {
        "connector.class": "FileStreamSink", "file": str(sink_file), "topics": "tp-topic"}})
    assert sorted(client.list_connectors(pattern="^tp-")) == ["tp-sink", "tp-source"]
    wait_until(lambda: read_lines(sink_file) == ["one", "two"], message="sink output")

    statuses = client.list_connectors(expand="status", pattern="^tp-")
    assert statuses["tp-source"]["status"]["connector"]["state"] == "RUNNING"
    assert client.list_connectors(expand="info")["tp-sink"]["info"]["type"] == "sink"
    running = client.list_connectors(expand="status", state="running", pattern="^tp-")
    assert sorted(running) == ["tp-sink", "tp-source"]

    client.pause_connector("tp-source")
    wait_until(lambda: client.get_connector_status("tp-source")["tasks"][0]["state"] == "PAUSED",
               message="task PAUSED")
    assert client.get_connector_status("tp-source")["connector"]["state"] == "PAUSED"
    client.resume_connector("tp-source")
    wait_until(lambda: client.get_connector_status("tp-source")["tasks"][0]["state"] == "RUNNING",
               message="task RUNNING")

    assert client.restart_connector("tp-source") is None  # 204
    plan = client.restart_connector("tp-source", include_tasks=True)  # 202 with the plan
    assert plan["connector"]["state"] == "RESTARTING"
    assert [t["state"] for t in plan["tasks"]] == ["RESTARTING"]
    client.restart_connector_task("tp-source", 0)
    wait_until(lambda: client.get_connector_task_status("tp-source", 0)["state"] == "RUNNING",
               message="task running after restart")
    with open(source_file, "a") as out:
        out.write("three\n")
    wait_until(lambda: read_lines(sink_file) == ["one", "two", "three"],
               message="no duplicate after restart")

    assert client.get_connector_config("tp-sink")["topics"] == "tp-topic"
    assert client.list_connector_tasks("tp-sink")[0]["id"] == {"connector": "tp-sink", "task": 0}
    assert client.list_connector_topics("tp-source") == {"tp-source": {"topics": ["tp-topic"]}}
    updated = client.update_connector("tp-source", {
        "connector.class": "FileStreamSource", "file": str(source_file), "topic": "tp-topic",
        "batch.size": "10"})
    assert updated["config"]["batch.size"] == "10"

    validation = client.validate_connector_config("FileStreamSourceConnector", {
        "connector.class": "FileStreamSourceConnector", "batch.size": "0"})
    assert validation["error_count"] == 2
    failing = {c["value"]["name"] for c in validation["configs"] if c["value"]["errors"]}
    assert failing == {"topic", "batch.size"}

    client.stop_connector("tp-source")
    wait_until(lambda: client.get_connector_status("tp-source")["connector"]["state"] == "STOPPED",
               message="STOPPED")
    client.delete_connector("tp-source")
    client.delete_connector("tp-sink")
    assert [c for c in client.list_connectors() if c.startswith("tp-")] == []
    with pytest.raises(HTTPError):
        client.get_connector("tp-source")


def test_kc_command_line(standalone_worker: WorkerProcess, files: Path) -> None:
    """The package's own CLI (`kc`), as a user would type it."""
    import json
    import shutil
    import subprocess

    kc = shutil.which("kc") or str(Path(sys.executable).parent / "kc")

    def run(*args: str) -> str:
        done = subprocess.run([kc, "--url", standalone_worker.url, *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    source = files / "kc.txt"
    source.write_text("x\n")
    created = json.loads(run("create", "--config-data", json.dumps({"name": "kc-src", "config": {
        "connector.class": "FileStreamSource", "file": str(source), "topic": "kc-topic"}})))
    assert created["name"] == "kc-src"
    assert "kc-src" in json.loads(run("list"))
    run("pause", "kc-src")
    wait_until(lambda: json.loads(run("status", "kc-src"))["connector"]["state"] == "PAUSED",
               message="PAUSED via kc")
    run("resume", "kc-src")
    run("restart", "kc-src", "--include-tasks")
    wait_until(lambda: json.loads(run("status", "kc-src"))["tasks"][0]["state"] == "RUNNING",
               message="RUNNING via kc")
    run("delete", "kc-src")
    assert "kc-src" not in json.loads(run("list"))
