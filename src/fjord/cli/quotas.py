"""Client quotas (kafka-configs.sh --entity-type users/clients with quota configs):
producer_byte_rate, consumer_byte_rate, request_percentage, controller_mutation_rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from fjord.cli.kafka_call import call
from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, fail, table

app = typer.Typer(no_args_is_help=True, help=__doc__)
DESCRIBE, ALTER = 48, 49
EXACT, DEFAULT, SPECIFIED = 0, 1, 2
USER = typer.Option(None, "--user", help="A user name (the principal's name).")
USER_DEFAULT = typer.Option(False, "--user-default", help="The default for every user.")
CLIENT = typer.Option(None, "--client-id", help="A client id.")
CLIENT_DEFAULT = typer.Option(False, "--client-default", help="The default for every client id.")


def _entity(user: str | None, user_default: bool, client: str | None, client_default: bool
            ) -> list[dict[str, Any]]:
    if (user and user_default) or (client and client_default):
        fail("give a name or the default for each entity type, not both")
    entity = []
    if user or user_default:
        entity.append({"entity_type": "user", "entity_name": user})
    if client or client_default:
        entity.append({"entity_type": "client-id", "entity_name": client})
    return entity


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _name(value: str | None) -> str:
    return "<default>" if value is None else value


@app.command("describe")
def describe(user: str | None = USER, user_default: bool = USER_DEFAULT, client_id: str | None = CLIENT,
             client_default: bool = CLIENT_DEFAULT, bootstrap: str = BOOTSTRAP,
             command_config: Path | None = COMMAND_CONFIG) -> None:
    """Quotas of the entities given (all when none is given)."""
    components = [{"entity_type": e["entity_type"], "match_type": DEFAULT if e["entity_name"] is None
                   else EXACT, "match": e["entity_name"]}
                  for e in _entity(user, user_default, client_id, client_default)]
    response = call(bootstrap, DESCRIBE, 1, {"components": components, "strict": False}, command_config)
    if response.error_code.value:
        fail(f"cannot describe quotas: {response.error_message or response.error_code.name}")
    rows = []
    for entry in response.entries or ():
        parts = {e.entity_type: e.entity_name for e in entry.entity}
        for value in entry.values:
            rows.append((_name(parts["user"]) if "user" in parts else "",
                         _name(parts["client-id"]) if "client-id" in parts else "",
                         value.key, _number(value.value)))
    table(["USER", "CLIENT-ID", "QUOTA", "VALUE"], sorted(rows))


@app.command("alter")
def alter(add_config: str = typer.Option("", "--add-config", help="k1=v1,k2=v2 to set."),
          delete_config: list[str] = typer.Option([], "--delete-config", help="A quota to remove."),
          user: str | None = USER, user_default: bool = USER_DEFAULT, client_id: str | None = CLIENT,
          client_default: bool = CLIENT_DEFAULT, bootstrap: str = BOOTSTRAP,
          command_config: Path | None = COMMAND_CONFIG) -> None:
    """Set or remove quotas of one entity (a user, a client id, or both)."""
    entity = _entity(user, user_default, client_id, client_default)
    if not entity:
        fail("name the entity: --user/--user-default and/or --client-id/--client-default")
    ops: list[dict[str, Any]] = []
    for item in (part for part in add_config.split(",") if part.strip()):
        key, sep, value = item.partition("=")
        try:
            ops.append({"key": key.strip(), "value": float(value), "remove": False})
        except ValueError:
            fail(f"--add-config expects quota=number, got {item!r}")
        if not sep:
            fail(f"--add-config expects quota=number, got {item!r}")
    ops += [{"key": key.strip(), "value": 0.0, "remove": True}
            for item in delete_config for key in item.split(",") if key.strip()]
    if not ops:
        fail("give --add-config or --delete-config")
    response = call(bootstrap, ALTER, 1, {"entries": [{"entity": entity, "ops": ops}],
                                          "validate_only": False}, command_config)
    result = response.entries[0]
    if result.error_code.value:
        fail(f"cannot alter quotas: {result.error_message or result.error_code.name}")
    names = ", ".join(f"{e['entity_type']} {_name(e['entity_name'])}" for e in entity)
    typer.echo(f"Completed updating quotas for {names}.")
