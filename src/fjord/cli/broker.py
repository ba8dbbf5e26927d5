"""Run a Kafka-compatible broker: `fjord broker [server.properties] [--override key=value]`."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import typer

from fjord.config.broker import BrokerConfig
from fjord.config.definitions import ConfigError
from fjord.config.properties import parse_overrides, read_properties
from fjord.observability.logging import setup_logging
from fjord.storage.logdirs import LogDirError


def load_config(properties: Path | None, overrides: list[str]) -> BrokerConfig:
    """Read the file and overrides; on a bad value print one line and exit 2."""
    try:
        settings = read_properties(properties) if properties else {}
        settings.update(parse_overrides(overrides))
        return BrokerConfig(settings)
    except (ConfigError, ValueError, OSError) as exc:
        typer.echo(f"fjord: {exc}", err=True)
        raise typer.Exit(2) from None


async def serve(config: BrokerConfig, before_stop: Callable[[], None] | None = None) -> None:
    from fjord.broker.server import BrokerServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = BrokerServer(config)
    await server.start()
    for name in config.inert:
        logging.getLogger("fjord.broker").info("%s has no effect on a single-node Fjord broker", name)
    print(f"fjord broker ready on {server.state.host}:{server.state.port} "
          f"(log.dirs={','.join(str(p) for p in config.log_dirs)})", flush=True)
    try:
        await stop.wait()
        if before_stop is not None:  # what runs on top of the broker stops first
            await loop.run_in_executor(None, before_stop)
    finally:
        await server.close()


def run(config: BrokerConfig, before_stop: Callable[[], None] | None = None) -> None:
    try:
        import uvloop

        uvloop.run(serve(config, before_stop))
    except ImportError:
        asyncio.run(serve(config, before_stop))
    except LogDirError as exc:  # a log dir this broker must not use: like a config mistake
        typer.echo(f"fjord: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        typer.echo(f"fjord: cannot start the broker: {exc}", err=True)
        sys.exit(1)


def broker(
    properties: Path | None = typer.Argument(None, help="A Kafka server.properties file."),
    override: list[str] = typer.Option([], "--override", help="key=value, as in Kafka."),
    log_format: str = typer.Option("text", "--log-format", help="text, or json: one JSON object per line."),
) -> None:
    setup_logging(log_format=log_format)
    run(load_config(properties, override))
