"""JDBC URLs, as users already have them in Confluent connector configs, turned into what the
Python drivers take.

`jdbc:postgresql://host:port/db?user=u&password=p`, `jdbc:mysql://...` / `jdbc:mariadb://...`,
`jdbc:sqlite:/path/file.db` (or `jdbc:sqlite::memory:`). Credentials may come from the URL's
query or from `connection.user` / `connection.password`; the explicit keys win, as in the
Confluent connector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fjord.connect.api import ConnectException


@dataclass(frozen=True)
class JdbcUrl:
    kind: str  # "postgresql" | "mysql" | "sqlite"
    host: str = ""
    port: int = 0
    database: str = ""
    path: str = ""  # sqlite file
    params: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        """Where, without credentials: for error messages and logs."""
        if self.kind == "sqlite":
            return f"sqlite:{self.path}"
        return f"{self.kind}://{self.host}:{self.port}/{self.database}"


DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
KINDS = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql",
         "sqlite": "sqlite"}


def parse_jdbc_url(url: str) -> JdbcUrl:
    text = url.strip()
    if not text.startswith("jdbc:"):
        raise ConnectException(f"connection.url must start with jdbc: (got {text!r}); e.g. "
                               "jdbc:postgresql://host:5432/db, jdbc:mysql://host:3306/db, "
                               "jdbc:sqlite:/path/file.db")
    rest = text[len("jdbc:"):]
    scheme, _, tail = rest.partition(":")
    kind = KINDS.get(scheme.lower())
    if kind is None:
        raise ConnectException(f"No suitable driver found for {text}: Fjord's JDBC connectors "
                               "support postgresql, mysql, mariadb and sqlite URLs")
    if kind == "sqlite":
        path, _, query = tail.partition("?")
        return JdbcUrl("sqlite", path=path or ":memory:", params=dict(parse_qsl(query)))
    parts = urlsplit(f"{kind}:{tail}")
    host = parts.hostname or "localhost"
    try:
        port = parts.port or DEFAULT_PORTS[kind]
    except ValueError as exc:
        raise ConnectException(f"Invalid port in connection.url {text}") from exc
    params = dict(parse_qsl(parts.query))
    if parts.username:
        params.setdefault("user", unquote(parts.username))
    if parts.password:
        params.setdefault("password", unquote(parts.password))
    return JdbcUrl(kind, host, port, parts.path.lstrip("/"), params=params)
