"""Run Fjord on its embedded defaults: a broker on 127.0.0.1:9092 with its own data dir."""

from __future__ import annotations

import subprocess
from pathlib import Path

import typer

from fjord.cli.broker import load_config, run
from fjord.observability.logging import setup_logging

DEFAULT_ADMIN_LISTENER = "http://127.0.0.1:9644"


def up(
    properties: Path | None = typer.Option(None, "--config", help="Optional server.properties."),
    override: list[str] = typer.Option([], "--override", help="key=value broker setting."),
    connect: bool = typer.Option(True, "--connect/--no-connect",
                                 help="Also run a Kafka Connect worker (REST on 127.0.0.1:8083)."),
    connect_port: int = typer.Option(8083, "--connect-port", help="REST port of that worker."),
) -> None:
    setup_logging()
    config = load_config(properties, override)
    if "admin.listener" not in config.set:  # on under `fjord up` unless set (empty: off)
        config = load_config(properties, [*override, f"admin.listener={DEFAULT_ADMIN_LISTENER}"])
    worker = None
    if connect:
        from fjord.cli.connect import spawn_embedded_worker
        host, port = config.advertised_for(config.listeners[0])
        worker = spawn_embedded_worker(f"{host}:{port}", connect_port)
    def stop_worker() -> None:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()

    try:
        run(config, before_stop=stop_worker)
    finally:
        stop_worker()
