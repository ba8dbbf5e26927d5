"""A real PostgreSQL server for tests: the image's own binaries, a temp data directory, a free
port on 127.0.0.1, `wal_level=logical` so CDC tests can open replication slots.

PostgreSQL refuses to run as root, so when the suite runs as root the cluster belongs to the
`postgres` system user (created by Debian's package; made here if missing). Password
authentication is on for TCP so tests can check what a wrong password does; the superuser is
`postgres` / `PASSWORD`. One server serves a whole test session (`postgres_server` fixture);
each test makes its own database with `new_database()`.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.broker import free_port

PASSWORD = "fjord-test-pw"


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries not found: run scripts/setup.sh --test "
                       "(it installs Debian's postgresql package)")


def _run_as() -> str | None:
    """The user to run the server as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    return "postgres"


class PostgresServer:
    def __init__(self, extra_settings: dict[str, str] | None = None) -> None:
        self.bin = _bin_dir()
        self.user = _run_as()
        # Not under pytest's tmp dir: that one is 0700 root, which the postgres user cannot enter.
        self.dir = Path(tempfile.mkdtemp(prefix="fjord-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.settings = {
            "listen_addresses": "127.0.0.1", "port": str(self.port),
            "unix_socket_directories": str(self.dir), "wal_level": "logical",
            "max_replication_slots": "20", "max_wal_senders": "20", "fsync": "off",
            "full_page_writes": "off", "shared_buffers": "32MB", "max_connections": "100",
            **(extra_settings or {}),
        }
        self.log_path = self.dir / "postgres.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _cmd(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(args, user=self.user, capture_output=True, check=check, timeout=120)

    def init(self) -> PostgresServer:
        if self.user:
            shutil.chown(self.dir, self.user, self.user)
        pwfile = self.dir / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self.user:
            shutil.chown(pwfile, self.user, self.user)
        result = self._cmd([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                            "--auth-host=scram-sha-256", "--auth-local=trust",
                            f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C.UTF-8"], check=False)
        if result.returncode:
            raise RuntimeError(f"initdb failed: {result.stderr.decode(errors='replace')}")
        with open(self.data / "postgresql.conf", "a") as conf:
            for key, value in self.settings.items():
                conf.write(f"{key} = '{value}'\n")
        with open(self.data / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 scram-sha-256\n")
        return self

    def start(self) -> PostgresServer:
        """The postmaster as our child (not daemonized by pg_ctl), so it dies with the test run
        even when that is killed: no orphaned servers on a shared machine."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([str(self.bin / "postgres"), "-D", str(self.data)],
                                     stdout=log, stderr=log, user=self.user,
                                     preexec_fn=_die_with_parent)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"PostgreSQL exited with {self.proc.returncode}: "
                                   f"{self.log_tail()}")
            ready = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p",
                                    str(self.port), "-q"], check=False)
            if ready.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL not ready in 60s: {self.log_tail()}")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """`fast` is a clean shutdown; `immediate` is a crash (recovery replays WAL at start)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGQUIT if mode == "immediate" else signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def dsn(self, dbname: str = "postgres", user: str = "postgres",
            password: str = PASSWORD) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user} password={password}"

    def jdbc_url(self, dbname: str) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True) -> Any:
        import psycopg
        return psycopg.connect(self.dsn(dbname), autocommit=autocommit)

    def new_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect():
                    return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)


try:  # loaded in the parent: the child may no longer be allowed to import anything
    _LIBC: Any = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child: SIGKILL when the test process dies, however it dies (Linux prctl)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL for the whole session; tests isolate themselves by database."""
    server = PostgresServer().init().start()
    try:
        yield server
    finally:
        server.destroy()
