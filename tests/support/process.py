"""A server process a test starts for real (broker, Connect worker): its log file, its
readiness wait, and the two ways it can end — SIGTERM (clean) and SIGKILL (crash)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class ServiceProcess:
    what = "process"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.killed = False

    def spawn(self, args: list[str], ready: Callable[[], bool], timeout: float,
              env: dict[str, str] | None = None) -> None:
        """Start `args` with output to the log, and wait until `ready()` or fail loudly."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.killed = False
        self.proc = subprocess.Popen(args, stdout=log, stderr=log,
                                     env=dict(os.environ, PYTHONUNBUFFERED="1", **(env or {})))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.what} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.what} was not ready within {timeout}s: {self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, nothing flushed by the process."""
        if self.proc and self.proc.poll() is None:
            self.killed = True
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def stop_cleanly(self, timeout: float = 30.0) -> None:
        """SIGTERM and insist on exit code 0: a shutdown that crashes is a bug a test must see.
        A process the test SIGKILLed on purpose is exempt."""
        code = self.stop(timeout)
        if not self.killed and code != 0:
            raise AssertionError(f"{self.what} exited with {code} at teardown: {self.log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None
