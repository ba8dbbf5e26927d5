"""`fjord connect list|create|status|pause|resume|stop|restart|offsets|delete` against a worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.connect.support import WorkerProcess, wait_until


def fjord(url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "fjord.cli.main", "connect", *args, "--url", url],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode == 0) == ok, done.stderr
    return done


def test_connect_cli(standalone_worker: WorkerProcess, tmp_path: Path) -> None:
    url = standalone_worker.url
    source = tmp_path / "cli.txt"
    source.write_text("hello\n")
    config = tmp_path / "cli-source.properties"
    config.write_text(f"name=cli-src\nconnector.class=FileStreamSource\nfile={source}\n"
                      "topic=cli-topic\n")
    created = json.loads(fjord(url, "create", str(config)).stdout)
    assert created["name"] == "cli-src" and created["type"] == "source"
    wait_until(lambda: "RUNNING" in fjord(url, "list").stdout, message="RUNNING in the list")
    assert "cli-src" in fjord(url, "list").stdout
    fjord(url, "pause", "cli-src")
    wait_until(lambda: json.loads(fjord(url, "status", "cli-src").stdout)["connector"]["state"]
               == "PAUSED", message="PAUSED")
    fjord(url, "resume", "cli-src")
    fjord(url, "stop", "cli-src")
    wait_until(lambda: json.loads(fjord(url, "status", "cli-src").stdout)["connector"]["state"]
               == "STOPPED", message="STOPPED")
    offsets = json.loads(fjord(url, "offsets", "cli-src").stdout)
    assert offsets["offsets"][0]["offset"] == {"position": 6}
    assert "reset" in json.loads(fjord(url, "offsets", "cli-src", "--reset").stdout)["message"]
    plan = json.loads(fjord(url, "restart", "cli-src", "--include-tasks").stdout)
    assert plan["name"] == "cli-src"
    fjord(url, "delete", "cli-src")
    failed = fjord(url, "status", "cli-src", ok=False)
    assert "404: Connector cli-src not found" in failed.stderr
