"""A real `fjord broker` process on a free port, for tests and benchmarks.

Everything that tests the broker goes through this: no in-process shortcuts, so the
process, its CLI, its config parsing and its files are exercised exactly as a user runs them.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from pathlib import Path

from tests.support.process import ServiceProcess


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BrokerProcess(ServiceProcess):
    what = "broker"

    def __init__(self, data_dir: Path, overrides: dict[str, str] | None = None,
                 port: int | None = None, log_path: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = env
        self.port = port or free_port()
        self.overrides = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(data_dir),
            "group.initial.rebalance.delay.ms": "0",
            **(overrides or {}),
        }
        super().__init__(log_path or data_dir.parent / f"broker-{self.port}.log")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "fjord.cli.main", "broker"]
        for key, value in self.overrides.items():
            args += ["--override", f"{key}={value}"]
        return args

    def start(self, timeout: float = 20.0) -> BrokerProcess:
        def listening() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True

        self.spawn(self.command(), listening, timeout, self.env)
        return self

    def stop(self, timeout: float = 20.0) -> int:
        return super().stop(timeout)

    def restart(self) -> BrokerProcess:
        self.stop()
        return self.start()


BrokerFactory = Callable[..., BrokerProcess]
"""The `broker_factory` fixture: `(overrides=None, name="data")` → a started broker."""
