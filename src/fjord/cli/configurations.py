"""`fjord configurations`: MSK configurations and their revisions, with a diff between any two."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import typer

from fjord.cli.control import ENDPOINT, ApiClient, arn_path
from fjord.cli.output import fail, table

app = typer.Typer(no_args_is_help=True, help=__doc__)
ARN = typer.Option(..., "--arn", help="The configuration's ARN, or its name.")


def _blob(path: str) -> str:
    source = Path(path.removeprefix("fileb://").removeprefix("file://"))
    try:
        return base64.b64encode(source.read_bytes()).decode()
    except OSError as exc:
        fail(f"cannot read {source}: {exc.strerror}")


def resolve(client: ApiClient, arn_or_name: str) -> str:
    if arn_or_name.startswith("arn:"):
        return arn_or_name
    for config in client.paged("/v1/configurations", "configurations"):
        if config["name"] == arn_or_name:
            return str(config["arn"])
    fail(f"no configuration named {arn_or_name}")


def properties_of(client: ApiClient, arn: str, revision: int) -> str:
    doc = client.call("GET", f"/v1/configurations/{arn_path(arn)}/revisions/{revision}")
    return base64.b64decode(doc["serverProperties"]).decode("utf-8")


@app.command("create-configuration")
def create_configuration(
    name: str = typer.Option(..., "--name"),
    server_properties: str = typer.Option(..., "--server-properties", help="fileb://server.properties"),
    description: str = typer.Option("", "--description"),
    endpoint: str = ENDPOINT,
) -> None:
    """Create a configuration (revision 1); keys are checked against the broker's own."""
    doc = ApiClient(endpoint).call("POST", "/v1/configurations", {
        "name": name, "description": description, "kafkaVersions": [],
        "serverProperties": _blob(server_properties)})
    typer.echo(json.dumps(doc, indent=2))


@app.command("update-configuration")
def update_configuration(arn: str = ARN,
                         server_properties: str = typer.Option(..., "--server-properties"),
                         description: str = typer.Option("", "--description"),
                         endpoint: str = ENDPOINT) -> None:
    """Add a revision."""
    client = ApiClient(endpoint)
    doc = client.call("PUT", f"/v1/configurations/{arn_path(resolve(client, arn))}",
                      {"description": description, "serverProperties": _blob(server_properties)})
    typer.echo(json.dumps(doc, indent=2))


@app.command("list-configurations")
def list_configurations(endpoint: str = ENDPOINT) -> None:
    items = ApiClient(endpoint).paged("/v1/configurations", "configurations")
    table(["NAME", "LATEST", "STATE", "ARN"],
          [[c["name"], c["latestRevision"]["revision"], c["state"], c["arn"]] for c in items])


@app.command("describe-configuration")
def describe_configuration(arn: str = ARN, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    typer.echo(json.dumps(client.call("GET", f"/v1/configurations/{arn_path(resolve(client, arn))}"),
                          indent=2))


@app.command("list-configuration-revisions")
def list_configuration_revisions(arn: str = ARN, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    items = client.paged(f"/v1/configurations/{arn_path(resolve(client, arn))}/revisions", "revisions")
    table(["REVISION", "CREATED", "DESCRIPTION"],
          [[r["revision"], r["creationTime"], r.get("description", "")] for r in items])


@app.command("describe-configuration-revision")
def describe_configuration_revision(arn: str = ARN, revision: int = typer.Option(..., "--revision"),
                                    endpoint: str = ENDPOINT) -> None:
    """Print the revision's server.properties."""
    client = ApiClient(endpoint)
    typer.echo(properties_of(client, resolve(client, arn), revision), nl=False)


@app.command("delete-configuration")
def delete_configuration(arn: str = ARN, endpoint: str = ENDPOINT) -> None:
    client = ApiClient(endpoint)
    typer.echo(json.dumps(client.call("DELETE", f"/v1/configurations/{arn_path(resolve(client, arn))}"),
                          indent=2))


@app.command("diff")
def diff(arn: str = ARN, from_revision: int = typer.Option(..., "--from"),
         to_revision: int = typer.Option(..., "--to"), endpoint: str = ENDPOINT) -> None:
    """Key-by-key differences between two revisions (+ added, - removed, ~ changed)."""
    from fjord.control.properties import diff as diff_properties

    client = ApiClient(endpoint)
    resolved = resolve(client, arn)
    changes = diff_properties(properties_of(client, resolved, from_revision),
                              properties_of(client, resolved, to_revision))
    if not changes:
        typer.echo(f"revisions {from_revision} and {to_revision} set the same keys")
    for change in changes:
        if change.kind == "added":
            typer.echo(f"+ {change.key}={change.new}")
        elif change.kind == "removed":
            typer.echo(f"- {change.key}={change.old}")
        else:
            typer.echo(f"~ {change.key}: {change.old} -> {change.new}")
