"""The `fjord` command: one entry point, a module per noun."""

from __future__ import annotations

import typer

from fjord.cli import (
    acls,
    backup,
    broker,
    clusters,
    configs,
    configurations,
    connect,
    control,
    groups,
    quotas,
    schema_registry,
    topics,
    up,
    users,
)

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="Fjord: a self-hostable, Kafka-compatible streaming platform.")
app.command("broker", help=broker.__doc__)(broker.broker)
app.command("up", help=up.__doc__)(up.up)
app.command("schema-registry", help=schema_registry.__doc__)(schema_registry.schema_registry)
app.add_typer(connect.app, name="connect")
app.add_typer(topics.app, name="topics")
app.add_typer(groups.app, name="groups")
app.command("acls", help=acls.__doc__)(acls.acls)
app.add_typer(users.app, name="users")
app.add_typer(quotas.app, name="quotas")
app.add_typer(backup.app, name="backup")
app.command("configs", help=configs.__doc__)(configs.configs)
app.command("control", help=control.__doc__)(control.control)
app.add_typer(clusters.app, name="clusters")
app.add_typer(configurations.app, name="configurations")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
