"""A real `fjord connect` worker process, and small HTTP helpers to drive it like curl does."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.broker import free_port
from tests.support.process import ServiceProcess
from tests.support.wait import wait_until  # noqa: F401  (re-exported for the Connect tests)

STARTED: list[WorkerProcess] = []
"""Every worker started; the autouse fixture in conftest stops those a failed test left behind."""


class WorkerProcess(ServiceProcess):
    what = "worker"

    def __init__(self, workdir: Path, bootstrap: str, mode: str = "standalone",
                 props: dict[str, str] | None = None, connector_files: list[Path] | None = None,
                 port: int | None = None) -> None:
        self.workdir = workdir
        self.mode = mode
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.props = {
            "bootstrap.servers": bootstrap,
            "listeners": f"http://127.0.0.1:{self.port}",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.flush.interval.ms": "500",
            **({"offset.storage.file.filename": str(workdir / "connect.offsets")}
               if mode == "standalone" else {}),
            **(props or {}),
        }
        self.connector_files = connector_files or []
        self.worker_file = workdir / f"worker-{self.port}.properties"
        super().__init__(workdir / f"worker-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> WorkerProcess:
        self.worker_file.write_text("".join(f"{k}={v}\n" for k, v in self.props.items()))
        args = [sys.executable, "-m", "fjord.cli.main", "connect", self.mode, str(self.worker_file),
                *[str(p) for p in self.connector_files]]
        STARTED.append(self)
        self.spawn(args, lambda: http("GET", self.url + "/")[0] == 200, timeout)
        return self

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return http(method, self.url + path, body)


def http(method: str, url: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []
