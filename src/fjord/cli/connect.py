"""Run Kafka Connect workers: `fjord connect standalone|distributed worker.properties ...`."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import typer

from fjord.config.properties import parse_overrides
from fjord.observability.logging import setup_logging

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.command("standalone")
def standalone(
    worker: Path = typer.Argument(..., exists=True, dir_okay=False,
                                  help="Worker config (connect-standalone.properties)."),
    connectors: list[Path] = typer.Argument(None, help="Connector .properties or .json files."),
    override: list[str] = typer.Option([], "--override", help="key=value worker setting."),
) -> None:
    """One worker; offsets in offset.storage.file.filename; connectors from the given files."""
    from fjord.connect.runtime import run_standalone
    setup_logging()
    run_standalone(worker, list(connectors or []), parse_overrides(override))


@app.command("distributed")
def distributed(
    worker: Path | None = typer.Argument(None, exists=True, dir_okay=False,
                                         help="Worker config (connect-distributed.properties)."),
    override: list[str] = typer.Option([], "--override", help="key=value worker setting."),
) -> None:
    """A worker of the Connect cluster named by group.id; state in the three internal topics."""
    from fjord.connect.runtime import run_distributed
    setup_logging()
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
