"""Run the control plane (MSK's API) and the web console: `fjord control --listener URL --data-dir DIR`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import typer

from fjord.cli.output import fail
from fjord.observability.logging import setup_logging

DEFAULT_LISTENER = "http://127.0.0.1:8090"
ENDPOINT = typer.Option(os.environ.get("FJORD_CONTROL_URL", DEFAULT_LISTENER), "--endpoint-url",
                        help="The control plane's URL (env FJORD_CONTROL_URL).")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "fjord" / "control"


def control(
    listener: str = typer.Option(DEFAULT_LISTENER, "--listener", help="http://HOST:PORT to serve on."),
    data_dir: Path = typer.Option(None, "--data-dir", help="Where clusters, configurations and the "
                                  "local clusters' brokers keep their data."),
    token: str | None = typer.Option(os.environ.get("FJORD_CONTROL_TOKEN"), "--token",
                                     help="API token; required when not bound to loopback."),
    console: bool = typer.Option(True, "--console/--no-console", help="Also serve the web console."),
    max_brokers: int = typer.Option(30, "--max-brokers", help="Most local brokers at once."),
    register: list[str] = typer.Option([], "--register", help="NAME=BOOTSTRAP[;CONNECT_URL]: keep a "
                                       "registered cluster of that name pointing there."),
) -> None:
    from fjord.console.app import install as install_console
    from fjord.control.server import ListenerError, serve

    setup_logging()
    try:
        serve(listener, data_dir or default_data_dir(), token,
              install_console if console else None, max_brokers,
              [parse_register(item) for item in register])
    except ListenerError as exc:
        fail(str(exc))


def parse_register(text: str) -> tuple[str, str, str | None, str | None, str | None]:
    """NAME=BOOTSTRAP[;CONNECT_URL[;ADMIN_URL[;SCHEMA_REGISTRY_URL]]] (ADMIN_URL: a Fjord broker's
    admin.listener); empty fields are allowed."""
    name, _, rest = text.partition("=")
    bootstrap, *urls = rest.split(";")
    connect_url, admin_url, registry_url = [*urls, "", "", ""][:3]
    if not name or not bootstrap:
        fail(f"--register {text!r} must look like NAME=HOST:PORT[;CONNECT_URL[;ADMIN_URL[;REGISTRY_URL]]]")
    return name, bootstrap, connect_url or None, admin_url or None, registry_url or None


def spawn_control(port: int, data_dir: Path, bootstrap: str, connect_url: str | None,
                  admin_url: str | None = None, registry_url: str | None = None) -> subprocess.Popen[bytes]:
    """The control plane and console `fjord up` runs beside its broker, with that broker
    registered as the cluster `local` (and its Connect worker, if any)."""
    from fjord.cli.connect import _die_with_parent

    args = [sys.executable, "-m", "fjord.cli.main", "control", "--listener",
            f"http://127.0.0.1:{port}", "--data-dir", str(data_dir), "--register",
            f"local={bootstrap};{connect_url or ''};{admin_url or ''};{registry_url or ''}"]
    return subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)


class ApiClient:
    """The CLI's side of the MSK-shaped API: JSON in, JSON out, errors as one line."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint.rstrip("/")
        token = os.environ.get("FJORD_CONTROL_TOKEN")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            response = httpx.request(method, self.endpoint + path, json=body, headers=self.headers,
                                     params={k: v for k, v in (params or {}).items() if v is not None},
                                     timeout=60)
        except httpx.HTTPError as exc:
            fail(f"cannot reach the control plane at {self.endpoint}: {exc} "
                 "(start it with `fjord control` or pass --endpoint-url)")
        if response.status_code >= 400:
            kind = response.headers.get("x-amzn-ErrorType", str(response.status_code))
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            fail(f"{kind}: {message}")
        return response.json() if response.content else {}

    def paged(self, path: str, key: str, params: dict[str, Any] | None = None) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            page = self.call("GET", path, params={**(params or {}), "nextToken": token})
            items += page.get(key, [])
            token = page.get("nextToken")
            if not token:
                return items


def arn_path(arn: str) -> str:
    from urllib.parse import quote

    return quote(arn, safe="")
