"""What every admin command shares: an admin client, kafka-tools-style tables, one-line errors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from fjord.config.client_security import librdkafka_security
from fjord.config.properties import read_properties

BOOTSTRAP = typer.Option("127.0.0.1:9092", "--bootstrap-server", help="host:port of a broker.")
# Every command that talks to Connect REST takes --connect; `fjord connect` once said --url,
# which still works (hidden) so scripts written for it keep running.
CONNECT = typer.Option("http://127.0.0.1:8083", "--connect", envvar="FJORD_CONNECT_URL",
                       help="REST address of any worker of the Connect cluster.")
CONNECT_URL_ALIAS = typer.Option(None, "--url", hidden=True, help="Old name of --connect.")


def connect_url(connect: str, url: str | None) -> str:
    return url or connect


COMMAND_CONFIG = typer.Option(
    None, "--command-config",
    help="A properties file of Kafka client settings (security.protocol, sasl.*, ssl.*), as "
         "Kafka's tools take it.")
TIMEOUT = 15.0


def client_settings(bootstrap: str, command_config: Path | None = None) -> dict[str, Any]:
    """librdkafka settings: the broker, plus the security of a --command-config file."""
    settings: dict[str, Any] = {"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000}
    if command_config is not None:
        try:
            extra, dropped = librdkafka_security(read_properties(command_config))
        except OSError as exc:
            fail(f"cannot read --command-config {command_config}: {exc}")
        for key in dropped:
            typer.echo(f"Warning: {key} has no librdkafka equivalent and is ignored "
                       "(use PEM files: ssl.truststore.type=PEM / ssl.keystore.type=PEM)", err=True)
        settings.update(extra)
    return settings


def admin_client(bootstrap: str, command_config: Path | None = None) -> AdminClient:
    try:
        return AdminClient(client_settings(bootstrap, command_config))
    except KafkaException as exc:
        fail(f"bad client settings: {exc}")


def fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Left-aligned columns separated by spaces, as Kafka's shell tools print them."""
    cells = [list(header)] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        typer.echo(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
