"""Standalone mode from Kafka-style files: connectors from .properties on the command line,
source offsets in offset.storage.file.filename survive a worker restart (no line twice)."""

from __future__ import annotations

from pathlib import Path

from tests.connect.support import WorkerProcess, read_lines, wait_until
from tests.support.broker import BrokerProcess


def test_offsets_file_survives_restart(connect_broker: BrokerProcess, tmp_path: Path) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("".join(f"first-{i}\n" for i in range(20)))
    (tmp_path / "source.properties").write_text(
        "name=restart-source\nconnector.class=org.apache.kafka.connect.file.FileStreamSourceConnector\n"
        f"tasks.max=1\nfile={source}\ntopic=restart-topic\n")
    (tmp_path / "sink.json").write_text(
        '{"name": "restart-sink", "config": {"connector.class": "FileStreamSink", '
        f'"file": "{sink}", "topics": "restart-topic"}}}}')
    files = [tmp_path / "source.properties", tmp_path / "sink.json"]
    worker = WorkerProcess(tmp_path / "w", connect_broker.bootstrap, connector_files=files)
    worker.start()
    try:
        wait_until(lambda: len(read_lines(sink)) == 20, message="first batch")
    finally:
        assert worker.stop() == 0
    offsets_file = tmp_path / "w" / "connect.offsets"
    assert "restart-source" in offsets_file.read_text()
    with open(source, "a") as out:
        out.write("".join(f"second-{i}\n" for i in range(5)))
    restarted = WorkerProcess(tmp_path / "w", connect_broker.bootstrap, connector_files=files,
                              port=worker.port)
    restarted.start()
    try:
        expected = [f"first-{i}" for i in range(20)] + [f"second-{i}" for i in range(5)]
        wait_until(lambda: len(read_lines(sink)) >= 25, message="second batch")
        assert read_lines(sink) == expected
        body = restarted.call("GET", "/connectors/restart-source/status")[1]
        assert body["tasks"][0]["state"] == "RUNNING"
    finally:
        restarted.stop()
