"""A real `fjord schema-registry` process on a free port, storing in a broker's `_schemas` topic."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from tests.support.broker import free_port
from tests.support.process import ServiceProcess


class RegistryProcess(ServiceProcess):
    what = "schema registry"

    def __init__(self, workdir: Path, bootstrap: str, overrides: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.port = port or free_port()
        self.settings = {"listeners": f"http://127.0.0.1:{self.port}",
                         "kafkastore.bootstrap.servers": bootstrap, **(overrides or {})}
        workdir.mkdir(parents=True, exist_ok=True)
        super().__init__(workdir / f"registry-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> RegistryProcess:
        args = [sys.executable, "-m", "fjord.cli.main", "schema-registry"]
        for key, value in self.settings.items():
            args += ["--override", f"{key}={value}"]

        def ready() -> bool:
            with urllib.request.urlopen(self.url + "/subjects", timeout=2) as response:
                return bool(response.status == 200)

        self.spawn(args, ready, timeout)
        return self

    def restart(self) -> RegistryProcess:
        self.stop()
        return self.start()

    def get(self, path: str) -> object:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())
