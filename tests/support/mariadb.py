"""A real MariaDB server for tests: Debian's `mariadbd` on a free port bound to 127.0.0.1, a temp
data directory made by `mariadb-install-db`, the binary log on in ROW format (what binlog CDC
reads), and a `fjord` user with a password so tests can check a wrong one.

The server runs as the `mysql` system user when the suite runs as root (as Debian's package
sets it up). scripts/setup.sh --test installs `mariadb-server` when it is missing; a test
that needs it fails loudly rather than skipping.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.broker import free_port
from tests.support.postgres import _die_with_parent

USER = "fjord"
PASSWORD = "fjord-test-pw"


def _binary(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if candidate and os.path.exists(candidate):
            return candidate
    raise RuntimeError(f"{name} not found: run scripts/setup.sh --test (installs mariadb-server)")


class MariaDbServer:
    def __init__(self) -> None:
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("mysql")
                self.user = "mysql"
            except KeyError:
                self.user = "root"
        self.dir = Path(tempfile.mkdtemp(prefix="fjord-mariadb-"))
        self.data = self.dir / "data"
        self.socket = self.dir / "mysqld.sock"
        self.port = free_port()
        self.log_path = self.dir / "mariadb.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def _args(self) -> list[str]:
        args = [f"--datadir={self.data}", f"--socket={self.socket}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--pid-file={self.dir / 'mysqld.pid'}",
                "--log-bin=mysql-bin", "--binlog-format=ROW", "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL",
                "--server-id=1", "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=2",
                "--sync-binlog=0", "--skip-log-error", f"--log-error={self.log_path}"]
        if self.user:
            args.append(f"--user={self.user}")
        return args

    def init(self) -> MariaDbServer:
        if self.user and self.user != "root":
            shutil.chown(self.dir, self.user, self.user)
        result = subprocess.run(
            [_binary("mariadb-install-db"), "--no-defaults", f"--datadir={self.data}",
             "--auth-root-authentication-method=normal", "--skip-test-db",
             *([f"--user={self.user}"] if self.user else [])],
            capture_output=True, timeout=180)
        if result.returncode:
            raise RuntimeError("mariadb-install-db failed: "
                               + (result.stdout + result.stderr).decode(errors="replace")[-2000:])
        return self

    def start(self, timeout: float = 60.0) -> MariaDbServer:
        log = open(self.dir / "stdout.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen([_binary("mariadbd"), "--no-defaults", *self._args()],
                                     stdout=log, stderr=log, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mariadbd exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd not ready in {timeout}s: {self.log_tail()}") \
                        from None
                time.sleep(0.1)
        return self

    def bootstrap(self) -> MariaDbServer:
        """The test user, allowed everything including replication (binlog CDC)."""
        with self.connect_root() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}'")
            cur.execute(f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%' WITH GRANT OPTION")
            cur.execute("FLUSH PRIVILEGES")
        return self

    def stop(self, crash: bool = False) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGKILL if crash else signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, crash: bool = False) -> None:
        self.stop(crash)
        self.start()

    def destroy(self) -> None:
        self.stop(crash=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for path in (self.log_path, self.dir / "stdout.log"):
            with contextlib.suppress(FileNotFoundError):
                out += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out)

    def connect_root(self) -> Any:
        import pymysql
        return pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)

    def connect(self, database: str | None = None, autocommit: bool = True) -> Any:
        import pymysql
        return pymysql.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD,
                               database=database, autocommit=autocommit)

    def jdbc_url(self, database: str, scheme: str = "mysql") -> str:
        return f"jdbc:{scheme}://127.0.0.1:{self.port}/{database}"

    def new_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
        return name


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDbServer]:
    """One MariaDB for the whole session; tests isolate themselves by database."""
    server = MariaDbServer().init().start().bootstrap()
    try:
        yield server
    finally:
        server.destroy()
