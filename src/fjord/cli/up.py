"""Run Fjord on its embedded defaults: a broker on 127.0.0.1:9092 with its own data dir."""

from __future__ import annotations

import os
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
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object per line."),
    registry: bool = typer.Option(True, "--schema-registry/--no-schema-registry",
                                  help="Also serve the schema registry (127.0.0.1:8081)."),
    registry_port: int = typer.Option(8081, "--schema-registry-port",
                                      help="Port of the schema registry."),
    control: bool = typer.Option(True, "--control/--no-control",
                                 help="Also run the control plane and console (127.0.0.1:8090)."),
    control_port: int = typer.Option(8090, "--control-port", help="Port of the control plane."),
) -> None:
    setup_logging(log_format=log_format)
    os.environ["FJORD_LOG_FORMAT"] = log_format  # the embedded worker logs the same way
    config = load_config(properties, override)
    if "admin.listener" not in config.set:  # on under `fjord up` unless set (empty: off)
        config = load_config(properties, [*override, f"admin.listener={DEFAULT_ADMIN_LISTENER}"])
    worker = None
    host, port = config.advertised_for(config.listeners[0])
    if connect:
        from fjord.cli.connect import spawn_embedded_worker
        worker = spawn_embedded_worker(f"{host}:{port}", connect_port)
    children = [worker] if worker is not None else []
    if registry:
        from fjord.cli.schema_registry import spawn_embedded_registry
        children.append(spawn_embedded_registry(f"{host}:{port}", registry_port))
    if control:
        from fjord.cli.control import spawn_control
        children.append(spawn_control(control_port, config.log_dirs[0].parent / "control", f"{host}:{port}",
                                      f"http://127.0.0.1:{connect_port}" if connect else None,
                                      config.get("admin.listener") or None,
                                      f"http://127.0.0.1:{registry_port}" if registry else None))

    def stop_worker() -> None:
        for child in reversed(children):
            if child.poll() is None:
                child.terminate()
                try:
                    child.wait(30)
                except subprocess.TimeoutExpired:
                    child.kill()

    try:
        run(config, before_stop=stop_worker)
    finally:
        stop_worker()
