"""Schema registry with Confluent's REST API (as schema-registry-start takes its file)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import typer

from fjord.config.properties import parse_overrides
from fjord.observability.logging import setup_logging


def schema_registry(
    properties: Path | None = typer.Argument(None, exists=True, dir_okay=False,
                                             help="schema-registry.properties"),
    override: list[str] = typer.Option([], "--override", help="key=value setting."),
) -> None:
    """Serve the registry: listeners, kafkastore.bootstrap.servers, kafkastore.topic,
    schema.compatibility.level (Confluent's keys)."""
    from fjord.schemaregistry.server import load, serve
    setup_logging()
    serve(load(properties, parse_overrides(override)))


def spawn_embedded_registry(bootstrap: str, port: int = 8081) -> subprocess.Popen[bytes]:
    """The registry `fjord up` runs beside its broker, on 127.0.0.1."""
    args = [sys.executable, "-m", "fjord.cli.main", "schema-registry",
            "--override", f"listeners=http://127.0.0.1:{port}",
            "--override", f"kafkastore.bootstrap.servers={bootstrap}"]
    return subprocess.Popen(args, start_new_session=True, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass
