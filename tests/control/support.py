"""A real `fjord control` process on a free port, and the boto3 client that drives it."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path
from typing import Any

import boto3

from tests.support.broker import free_port
from tests.support.process import ServiceProcess


class ControlProcess(ServiceProcess):
    what = "control plane"

    def __init__(self, data_dir: Path, port: int | None = None, token: str | None = None,
                 host: str = "127.0.0.1", extra: list[str] | None = None) -> None:
        self.extra = extra or []
        self.data_dir = data_dir
        self.port = port or free_port()
        self.host = host
        self.token = token
        super().__init__(data_dir.parent / f"control-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> ControlProcess:
        args = [sys.executable, "-m", "fjord.cli.main", "control", "--listener", self.url,
                "--data-dir", str(self.data_dir)]
        if self.token:
            args += ["--token", self.token]
        args += self.extra

        def ready() -> bool:
            try:
                with urllib.request.urlopen(self.url + "/openapi.json", timeout=2):
                    return True
            except urllib.error.HTTPError as exc:
                return exc.code == 401
        self.spawn(args, ready, timeout)
        return self

    def kafka(self) -> Any:
        """boto3's own MSK client, unchanged, pointed at this control plane."""
        return boto3.client("kafka", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="x", aws_secret_access_key="x")


def broker_pids(properties_path: Path) -> list[int]:
    """Pids of `fjord broker` processes started with this properties file (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"broker" in cmdline and str(properties_path).encode() in cmdline:
            pids.append(int(entry.name))
    return pids
