"""Local clusters' broker processes: started as `fjord broker` with the cluster's properties,
watched, and restarted when they die (the cluster shows HEALING until the broker listens again).

A broker is a child process of the control plane so that its crash is noticed at once (the
wait on the child returns) and so that stopping the control plane stops its brokers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from fjord.fsutil import atomic_write

log = logging.getLogger("fjord.control")

READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def _die_with_parent() -> None:
    """In the child: SIGTERM when the control plane dies, even by SIGKILL (Linux prctl), so a
    restarted control plane finds its brokers' ports free instead of orphans holding them."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class BrokerRunner:
    """One supervised `fjord broker` process of a local cluster."""

    def __init__(self, directory: Path, node_id: int, host: str, port: int,
                 on_exit: Callable[[BrokerRunner, int], Awaitable[None]],
                 admin_url: str | None = None) -> None:
        self.directory = directory
        self.node_id = node_id
        self.host = host
        self.port = port
        self.admin_url = admin_url
        self.on_exit = on_exit
        self.proc: asyncio.subprocess.Process | None = None
        self.watch: asyncio.Task[None] | None = None
        self.stopping = False

    @property
    def properties_path(self) -> Path:
        return self.directory / f"broker-{self.node_id}.properties"

    @property
    def log_path(self) -> Path:
        return self.directory / f"broker-{self.node_id}.log"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    def write_properties(self, settings: dict[str, str]) -> None:
        managed = {
            "node.id": str(self.node_id),
            "listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "log.dirs": str(self.directory / f"kafka-logs-{self.node_id}"),
        }
        if self.admin_url:
            managed["admin.listener"] = self.admin_url
        lines = ["# Written by the Fjord control plane from the cluster's configuration revision."]
        lines += [f"{key}={value}" for key, value in {**settings, **managed}.items()]
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.properties_path, "\n".join(lines) + "\n")

    async def start(self) -> None:
        """Spawn the broker and return once it accepts connections; raise with its log tail."""
        self.stopping = False
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "fjord.cli.main", "broker", str(self.properties_path),
                stdout=log_file, stderr=log_file, stdin=asyncio.subprocess.DEVNULL,
                env=dict(os.environ, PYTHONUNBUFFERED="1"), start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            log_file.close()
        proc = self.proc
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while loop.time() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"broker {self.node_id} exited with {proc.returncode}: {self.log_tail()}")
            if await loop.run_in_executor(None, listening, self.host, self.port):
                self.watch = asyncio.create_task(self._watch(proc))
                return
            await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"broker {self.node_id} did not listen within {READY_TIMEOUT:.0f}s: "
                           f"{self.log_tail()}")

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if not self.stopping and proc is self.proc:
            log.warning("broker %s of %s exited with %s", self.node_id, self.directory.name, code)
            await self.on_exit(self, code)

    async def stop(self) -> None:
        """SIGTERM (a clean shutdown flushes the log), SIGKILL after STOP_TIMEOUT."""
        self.stopping = True
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline and await loop.run_in_executor(None, listening, self.host, self.port):
            await asyncio.sleep(0.1)

    def log_tail(self, lines: int = 15) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
