"""Opening and keeping one database connection, with Confluent's retry keys.

`connection.attempts` / `connection.backoff.ms` bound how long a task waits for a database
that is down; after that the task fails with the database's own reason in one line, so the
status trace says what to fix (wrong password, unknown host, missing database).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from fjord.connect.api import ConnectException
from fjord.connectors.jdbc.dialect import Dialect, dialect_for
from fjord.connectors.jdbc.url import JdbcUrl, parse_jdbc_url

log = logging.getLogger(__name__)


def reason(exc: BaseException) -> str:
    """The database's message on one line (drivers like to add a blank line and a hint)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class ConnectionProvider:
    def __init__(self, url: str, user: str | None, password: str | None, attempts: int = 3,
                 backoff_ms: int = 10_000, timeout_s: float = 10.0) -> None:
        self.url: JdbcUrl = parse_jdbc_url(url)
        self.dialect: Dialect = dialect_for(self.url)
        self.user = user or None
        self.password = password or None
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_ms / 1000.0
        self.timeout_s = timeout_s
        self._conn: Any = None
        self._stopped = threading.Event()

    def open_once(self) -> Any:
        """One attempt; raises ConnectException naming the database and its reason."""
        try:
            return self.dialect.connect(self.user, self.password, self.timeout_s)
        except self.dialect.connection_errors() as exc:
            raise ConnectException(f"Could not connect to {self.url.describe()}: {reason(exc)}") \
                from exc

    def get(self) -> Any:
        """The open connection, (re)connecting with up to `connection.attempts` tries."""
        if self._conn is not None:
            return self._conn
        last: ConnectException | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                self._conn = self.open_once()
                return self._conn
            except ConnectException as exc:
                last = exc
                log.warning("%s (attempt %d of %d)", exc, attempt, self.attempts)
                if attempt < self.attempts and self._stopped.wait(self.backoff_s):
                    break
        assert last is not None
        raise last

    def is_connection_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self.dialect.connection_errors())

    def discard(self) -> None:
        """Drop a connection that failed so the next get() opens a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing a broken connection failed", exc_info=True)

    def close(self) -> None:
        self._stopped.set()
        self.discard()
