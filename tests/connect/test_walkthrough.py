"""Seed 003 (Kafka: The Definitive Guide, ch. 9) walkthrough, over HTTP only, against real processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.connect.support import WorkerProcess, read_lines, wait_until

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def append(path: Path, lines: list[str]) -> None:
    with open(path, "a") as out:
        out.write("".join(line + "\n" for line in lines))


def state(worker: WorkerProcess, name: str) -> tuple[str, list[str]]:
    status, body = worker.call("GET", f"/connectors/{name}/status")
    assert status == 200, body
    return body["connector"]["state"], [t["state"] for t in body["tasks"]]


@pytest.mark.parametrize("mode", ["standalone", "distributed"])
def test_file_source_to_sink_walkthrough(mode: str, request: pytest.FixtureRequest,
                                         files: Path) -> None:
    """The seed runs its walkthrough on a distributed worker; standalone must behave the same."""
    worker: WorkerProcess = request.getfixturevalue(f"{mode}_worker")
    wait_until(lambda: worker.call("GET", "/health")[0] == 200, message="worker ready")
    topic = f"kafka-config-topic-{mode}"
    status, plugins = worker.call("GET", "/connector-plugins")
    assert status == 200
    classes = {p["class"]: p["type"] for p in plugins}
    assert classes[SOURCE] == "source" and classes[SINK] == "sink"

    source_file, sink_file = files / "server.properties", files / "copy-of-server-properties"
    lines = [f"line-{i} " + "x" * i for i in range(50)]
    append(source_file, lines)
    status, info = worker.call("POST", "/connectors", {
        "name": "load-kafka-config",
        "config": {"connector.class": "FileStreamSource", "file": str(source_file),
                   "topic": topic}})
    assert status == 201, info
    assert info["type"] == "source" and info["tasks"] == [{"connector": "load-kafka-config", "task": 0}]
    status, info = worker.call("POST", "/connectors", {
        "name": "dump-kafka-config",
        "config": {"connector.class": SINK, "file": str(sink_file), "topics": topic}})
    assert status == 201, info
    status, dup = worker.call("POST", "/connectors", {
        "name": "dump-kafka-config", "config": {"connector.class": SINK, "topics": "t"}})
    assert status == 409 and dup == {"error_code": 409,
                                     "message": "Connector dump-kafka-config already exists"}

    wait_until(lambda: read_lines(sink_file) == lines, message="sink file to hold the source lines")
    assert state(worker, "load-kafka-config") == ("RUNNING", ["RUNNING"])
    assert state(worker, "dump-kafka-config") == ("RUNNING", ["RUNNING"])
    status, topics = worker.call("GET", "/connectors/load-kafka-config/topics")
    assert topics == {"load-kafka-config": {"topics": [topic]}}

    # pause: nothing flows
    assert worker.call("PUT", "/connectors/load-kafka-config/pause")[0] == 202
    wait_until(lambda: state(worker, "load-kafka-config") == ("PAUSED", ["PAUSED"]), message="PAUSED")
    append(source_file, ["after-pause-1", "after-pause-2"])
    time.sleep(2.5)
    assert read_lines(sink_file) == lines
    # resume: continues where it stopped
    assert worker.call("PUT", "/connectors/load-kafka-config/resume")[0] == 202
    expected = [*lines, "after-pause-1", "after-pause-2"]
    wait_until(lambda: read_lines(sink_file) == expected, message="lines appended while paused")
    assert state(worker, "load-kafka-config") == ("RUNNING", ["RUNNING"])

    # offsets can only be altered when STOPPED
    status, body = worker.call("PATCH", "/connectors/load-kafka-config/offsets", {
        "offsets": [{"partition": {"filename": str(source_file)}, "offset": {"position": 0}}]})
    assert status == 400 and "STOPPED" in body["message"]
    assert worker.call("PUT", "/connectors/load-kafka-config/stop")[0] == 204
    wait_until(lambda: state(worker, "load-kafka-config") == ("STOPPED", []), message="STOPPED")

    size = source_file.stat().st_size
    status, offsets = worker.call("GET", "/connectors/load-kafka-config/offsets")
    assert status == 200
    assert offsets == {"offsets": [{"partition": {"filename": str(source_file)},
                                    "offset": {"position": size}}]}

    # PATCH: rewind to the start of line 48 → lines 48.. are sent again
    rewind_to = sum(len(line) + 1 for line in lines[:48])
    status, body = worker.call("PATCH", "/connectors/load-kafka-config/offsets", {
        "offsets": [{"partition": {"filename": str(source_file)}, "offset": {"position": rewind_to}}]})
    assert status == 200, body
    assert body["message"] == "The offsets for this connector have been altered successfully"
    assert worker.call("PUT", "/connectors/load-kafka-config/resume")[0] == 202
    expected = [*expected, *lines[48:], "after-pause-1", "after-pause-2"]
    wait_until(lambda: read_lines(sink_file) == expected, message="re-read after PATCH")

    # DELETE: reset → the whole file is read again
    assert worker.call("PUT", "/connectors/load-kafka-config/stop")[0] == 204
    wait_until(lambda: state(worker, "load-kafka-config") == ("STOPPED", []), message="STOPPED")
    status, body = worker.call("DELETE", "/connectors/load-kafka-config/offsets")
    assert status == 200 and body["message"] == \
        "The offsets for this connector have been reset successfully"
    assert worker.call("GET", "/connectors/load-kafka-config/offsets")[1] == {"offsets": []}
    assert worker.call("PUT", "/connectors/load-kafka-config/resume")[0] == 202
    expected = [*expected, *lines, "after-pause-1", "after-pause-2"]
    wait_until(lambda: read_lines(sink_file) == expected, message="re-read after DELETE")

    # sink offsets come from its consumer group
    status, sink_offsets = worker.call("GET", "/connectors/dump-kafka-config/offsets")
    assert status == 200
    # (both modes' sinks are named dump-kafka-config, so they share the group connect-dump-...)
    mine = [o for o in sink_offsets["offsets"] if o["partition"]["kafka_topic"] == topic]
    assert {"offsets": mine} == {"offsets": [{"partition": {"kafka_topic": topic,
                                                       "kafka_partition": 0},
                                         "offset": {"kafka_offset": len(expected)}}]}

    for name in ("load-kafka-config", "dump-kafka-config"):
        assert worker.call("DELETE", f"/connectors/{name}")[0] == 204
    assert worker.call("GET", "/connectors")[1] == []
    status, body = worker.call("GET", "/connectors/load-kafka-config")
    assert status == 404 and body == {"error_code": 404,
                                      "message": "Connector load-kafka-config not found"}


def test_sink_offsets_patch_and_delete(standalone_worker: WorkerProcess, files: Path) -> None:
    worker = standalone_worker
    source_file, sink_file = files / "in.txt", files / "out.txt"
    lines = [f"s{i}" for i in range(6)]
    append(source_file, lines)
    for name, config in (("so-src", {"connector.class": "FileStreamSource", "file": str(source_file),
                                     "topic": "sink-offsets"}),
                         ("so-sink", {"connector.class": "FileStreamSink", "file": str(sink_file),
                                      "topics": "sink-offsets"})):
        assert worker.call("POST", "/connectors", {"name": name, "config": config})[0] == 201
    wait_until(lambda: read_lines(sink_file) == lines, message="sink output")
    partition = {"kafka_topic": "sink-offsets", "kafka_partition": 0}
    wait_until(lambda: worker.call("GET", "/connectors/so-sink/offsets")[1] == {
        "offsets": [{"partition": partition, "offset": {"kafka_offset": 6}}]},
        message="sink offsets committed")
    assert worker.call("PUT", "/connectors/so-sink/stop")[0] == 204
    wait_until(lambda: state(worker, "so-sink") == ("STOPPED", []), message="sink STOPPED")
    status, body = worker.call("PATCH", "/connectors/so-sink/offsets", {
        "offsets": [{"partition": partition, "offset": {"kafka_offset": 4}}]})
    assert status == 200, body
    assert worker.call("GET", "/connectors/so-sink/offsets")[1]["offsets"][0]["offset"] == {
        "kafka_offset": 4}
    assert worker.call("PUT", "/connectors/so-sink/resume")[0] == 202
    wait_until(lambda: read_lines(sink_file) == [*lines, "s4", "s5"], message="re-sent from 4")
    assert worker.call("PUT", "/connectors/so-sink/stop")[0] == 204
    wait_until(lambda: state(worker, "so-sink") == ("STOPPED", []), message="sink STOPPED")
    status, body = worker.call("DELETE", "/connectors/so-sink/offsets")
    assert status == 200, body
    assert worker.call("GET", "/connectors/so-sink/offsets")[1] == {"offsets": []}
    assert worker.call("PUT", "/connectors/so-sink/resume")[0] == 202
    wait_until(lambda: read_lines(sink_file) == [*lines, "s4", "s5", *lines],
               message="re-sent from the start")
    for name in ("so-src", "so-sink"):
        assert worker.call("DELETE", f"/connectors/{name}")[0] == 204
