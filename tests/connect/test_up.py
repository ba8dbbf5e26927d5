"""`fjord up` gives a new user a broker and a Connect worker with no configuration at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.connect.support import http, read_lines, wait_until
from tests.support.broker import free_port


def test_fjord_up_runs_a_connect_worker(tmp_path: Path) -> None:
    kafka_port, rest_port, registry_port, control_port, admin_port = (
        free_port(), free_port(), free_port(), free_port(), free_port())
    log = open(tmp_path / "up.log", "ab")  # noqa: SIM115 - owned by the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "fjord.cli.main", "up",
         "--override", f"listeners=PLAINTEXT://127.0.0.1:{kafka_port}",
         "--override", f"log.dirs={tmp_path / 'data'}", "--connect-port", str(rest_port),
         "--override", f"admin.listener=http://127.0.0.1:{admin_port}",
         "--schema-registry-port", str(registry_port), "--control-port", str(control_port)],
        stdout=log, stderr=log, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    url = f"http://127.0.0.1:{rest_port}"
    registry = f"http://127.0.0.1:{registry_port}"
    try:
        def healthy() -> bool:
            try:
                return http("GET", url + "/health", timeout=5)[0] == 200
            except OSError:
                return False
        wait_until(healthy, timeout=60, message="Connect REST of `fjord up`")
        source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
        source.write_text("hello from fjord up\n")
        for name, config in (("up-src", {"connector.class": "FileStreamSource", "file": str(source),
                                         "topic": "up-topic"}),
                             ("up-sink", {"connector.class": "FileStreamSink", "file": str(sink),
                                          "topics": "up-topic"})):
            status, body = http("POST", url + "/connectors", {"name": name, "config": config})
            assert status == 201, body
        wait_until(lambda: read_lines(sink) == ["hello from fjord up"], timeout=30,
                   message="the line copied through the embedded worker")
        # The broker's admin endpoint and the worker's /metrics (docs/observability.md).
        assert http("GET", f"http://127.0.0.1:{admin_port}/ready", timeout=10)[1]["status"] == "READY"
        with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
            assert b"kafka_connect_connect_worker_metrics_connectors 2" in response.read()

        def registry_up() -> bool:
            try:
                return http("GET", registry + "/subjects", timeout=5)[0] == 200
            except OSError:
                return False
        wait_until(registry_up, timeout=60, message="schema registry of `fjord up`")
        status, body = http("POST", registry + "/subjects/up-value/versions",
                            {"schema": '{"type": "string"}'})
        assert (status, body["id"]) == (200, 1), body
        assert http("GET", registry + "/subjects")[1] == ["up-value"]
        # The control plane beside them knows the broker as the registered cluster `local`.
        def local_cluster() -> bool:
            try:
                clusters = http("GET", f"http://127.0.0.1:{control_port}/v1/clusters", timeout=5)[1]
            except OSError:
                return False
            return [(c["clusterName"], c["state"]) for c in clusters["clusterInfoList"]] == [
                ("local", "ACTIVE")]
        wait_until(local_cluster, timeout=60, message="cluster `local` ACTIVE in the control plane")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0, (tmp_path / "up.log").read_text()[-3000:]
    # the worker and the registry went down with the broker
    for address in (url, registry):
        try:
            http("GET", address + "/", timeout=2)
            raise AssertionError(f"{address} still serving after `fjord up` stopped")
        except OSError:
            pass
