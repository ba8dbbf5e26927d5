"""Run Fjord on its embedded defaults: a broker on 127.0.0.1:9092 with its own data dir."""

from __future__ import annotations

from pathlib import Path

import typer

from fjord.cli.broker import load_config, run
from fjord.observability.logging import setup_logging


def up(
    properties: Path | None = typer.Option(None, "--config", help="Optional server.properties."),
    override: list[str] = typer.Option([], "--override", help="key=value broker setting."),
) -> None:
    setup_logging()
    run(load_config(properties, override))
