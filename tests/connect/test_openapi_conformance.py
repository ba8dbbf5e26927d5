"""Kafka 4.1's own description of the Connect REST API (connect_rest.yaml), thrown at a live
worker by schemathesis: whatever it sends, the worker answers without a server error (5xx).

Two runs: every operation with generated names (mostly unknown connectors, so the not-found
and bad-request paths), then the per-connector operations pinned to a real, STOPPED source
connector, so offsets, config, restart, pause/resume/stop and topics see real state.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.connect.support import WorkerProcess
from tests.support.broker import BrokerProcess

SPEC = Path(__file__).with_name("connect_rest.yaml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _schemathesis(worker: WorkerProcess, workdir: Path, *args: str,
                  config: str = "") -> subprocess.CompletedProcess[str]:
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(config)
    command = [str(SCHEMATHESIS), "--config-file", str(config_file), "run", str(SPEC),
               "--url", worker.url, "--checks", "not_a_server_error", "--phases",
               "coverage,fuzzing", "--max-examples", "10", "--seed", "1",
               "--request-timeout", "60", *args]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900,
                          check=False)


def test_kafka_openapi_operations_never_answer_5xx(connect_broker: BrokerProcess,
                                                    tmp_path: Path) -> None:
    assert SCHEMATHESIS.exists(), "schemathesis is missing: scripts/setup.sh --test installs it"
    worker = WorkerProcess(tmp_path / "worker", connect_broker.bootstrap).start()
    try:
        (tmp_path / "in.txt").write_text("one\ntwo\n")
        status, _ = worker.call("POST", "/connectors", {
            "name": "st-src", "initial_state": "STOPPED",
            "config": {"connector.class": "FileStreamSource", "file": str(tmp_path / "in.txt"),
                       "topic": "st-topic"}})
        assert status == 201

        everything = _schemathesis(worker, tmp_path)
        assert everything.returncode == 0, everything.stdout[-6000:] + everything.stderr[-2000:]

        pinned = _schemathesis(worker, tmp_path, "--include-path-regex", r"^/connectors/\{connector\}",
                               "--exclude-method", "DELETE",
                               config='[parameters]\n"path.connector" = "st-src"\n')
        assert pinned.returncode == 0, pinned.stdout[-6000:] + pinned.stderr[-2000:]
        generated = re.search(r"(\d+) generated", pinned.stdout)
        assert generated is not None and int(generated.group(1)) >= 100, pinned.stdout[-2000:]
    finally:
        worker.stop()
