"""Kafka Connect: run workers (`standalone`, `distributed`) and manage connectors over REST."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from fjord.cli.output import CONNECT, CONNECT_URL_ALIAS, connect_url
from fjord.config.properties import parse_overrides
from fjord.connect.rest_client import ConnectClient, ConnectError
from fjord.observability.logging import setup_logging

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.command("standalone")
def standalone(
    worker: Path = typer.Argument(..., exists=True, dir_okay=False,
                                  help="Worker config (connect-standalone.properties)."),
    connectors: list[Path] = typer.Argument(None, help="Connector .properties or .json files."),
    override: list[str] = typer.Option([], "--override", help="key=value worker setting."),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object per line."),
) -> None:
    """One worker; offsets in offset.storage.file.filename; connectors from the given files."""
    from fjord.connect.runtime import run_standalone
    setup_logging(log_format=log_format)
    run_standalone(worker, list(connectors or []), parse_overrides(override))


@app.command("distributed")
def distributed(
    worker: Path | None = typer.Argument(None, exists=True, dir_okay=False,
                                         help="Worker config (connect-distributed.properties)."),
    override: list[str] = typer.Option([], "--override", help="key=value worker setting."),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object per line."),
) -> None:
    """A worker of the Connect cluster named by group.id; state in the three internal topics."""
    from fjord.connect.runtime import run_distributed
    setup_logging(log_format=log_format)
    run_distributed(worker, parse_overrides(override))


EMBEDDED_DEFAULTS = {
    "group.id": "fjord-connect",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "config.storage.replication.factor": "1",
    "offset.storage.replication.factor": "1",
    "status.storage.replication.factor": "1",
    "offset.flush.interval.ms": "10000",
}


def spawn_embedded_worker(bootstrap: str, rest_port: int = 8083) -> subprocess.Popen[bytes]:
    """The distributed worker `fjord up` runs beside its broker, with no configuration at all."""
    settings = {**EMBEDDED_DEFAULTS, "bootstrap.servers": bootstrap,
                "listeners": f"http://127.0.0.1:{rest_port}"}
    args = [sys.executable, "-m", "fjord.cli.main", "connect", "distributed"]
    for key, value in settings.items():
        args += ["--override", f"{key}={value}"]
    # Its own session: Ctrl-C reaches only `fjord up`, which stops the worker before the
    # broker so the worker's clients do not watch their broker vanish.
    return subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    """In the child: SIGTERM when `fjord up` dies, even by SIGKILL (Linux prctl)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# ---------------------------------------------------------------- REST client commands


def _call(connect: str, url: str | None, method: str, path: str, body: object = None) -> Any:
    """One REST call; Kafka's {error_code, message} bodies become a one-line error, exit 1."""
    client = ConnectClient(connect_url(connect, url))
    try:
        return client.request(method, path, body)
    except ConnectError as exc:
        prefix = f"{exc.status}: " if exc.status else ""
        typer.echo(f"fjord: {prefix}{exc}", err=True)
        raise typer.Exit(1) from None


def _echo(data: object) -> None:
    import json

    if data is not None:
        typer.echo(json.dumps(data, indent=2))


@app.command("list")
def list_connectors(connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Connectors with their state and where their tasks run."""
    from rich.console import Console
    from rich.table import Table

    data = _call(connect, url, "GET", "/connectors?expand=status")
    table = Table("connector", "type", "state", "tasks", "workers")
    for name, item in sorted(dict(data or {}).items()):
        status = item["status"]
        tasks = status["tasks"]
        states = ",".join(t["state"] for t in tasks) or "-"
        workers = ",".join(sorted({t["worker_id"] for t in tasks if t["worker_id"]})) or "-"
        table.add_row(name, status["type"], status["connector"]["state"], states, workers)
    Console().print(table)


@app.command("create")
def create(config: Path = typer.Argument(..., exists=True, dir_okay=False,
                                         help="Connector .properties or .json file."),
           connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Create (or update) a connector from a file, as connect-standalone reads them."""
    from fjord.connect.runtime import read_connector_file

    name, settings = read_connector_file(config)
    _echo(_call(connect, url, "PUT", f"/connectors/{name}/config", settings))


@app.command("status")
def status(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """A connector's status, with failure traces."""
    _echo(_call(connect, url, "GET", f"/connectors/{name}/status"))


@app.command("pause")
def pause(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Pause a connector and its tasks (PUT /connectors/{c}/pause)."""
    _call(connect, url, "PUT", f"/connectors/{name}/pause")


@app.command("resume")
def resume(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Resume a paused or stopped connector."""
    _call(connect, url, "PUT", f"/connectors/{name}/resume")


@app.command("stop")
def stop(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Stop a connector: its tasks shut down; offsets may then be altered."""
    _call(connect, url, "PUT", f"/connectors/{name}/stop")


@app.command("restart")
def restart(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS,
            include_tasks: bool = typer.Option(False, "--include-tasks"),
            only_failed: bool = typer.Option(False, "--only-failed")) -> None:
    """Restart a connector (and with --include-tasks its tasks), as POST /restart does."""
    query = f"?includeTasks={str(include_tasks).lower()}&onlyFailed={str(only_failed).lower()}"
    _echo(_call(connect, url, "POST", f"/connectors/{name}/restart{query}"))


@app.command("delete")
def delete(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS) -> None:
    """Delete a connector."""
    _call(connect, url, "DELETE", f"/connectors/{name}")


@app.command("offsets")
def offsets(name: str, connect: str = CONNECT, url: str | None = CONNECT_URL_ALIAS,
            reset: bool = typer.Option(False, "--reset", help="Reset them (connector STOPPED).")
            ) -> None:
    """A connector's offsets (KIP-875); --reset deletes them."""
    _echo(_call(connect, url, "DELETE" if reset else "GET", f"/connectors/{name}/offsets"))
