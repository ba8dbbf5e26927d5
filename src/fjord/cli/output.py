"""What every admin command shares: an admin client, kafka-tools-style tables, one-line errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from confluent_kafka.admin import AdminClient

BOOTSTRAP = typer.Option("127.0.0.1:9092", "--bootstrap-server", help="host:port of a broker.")
# Every command that talks to Connect REST takes --connect; `fjord connect` once said --url,
# which still works (hidden) so scripts written for it keep running.
CONNECT = typer.Option("http://127.0.0.1:8083", "--connect", envvar="FJORD_CONNECT_URL",
                       help="REST address of any worker of the Connect cluster.")
CONNECT_URL_ALIAS = typer.Option(None, "--url", hidden=True, help="Old name of --connect.")


def connect_url(connect: str, url: str | None) -> str:
    return url or connect
TIMEOUT = 15.0


def admin_client(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(1)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Left-aligned columns separated by spaces, as Kafka's shell tools print them."""
    cells = [list(header)] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        typer.echo(" ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
