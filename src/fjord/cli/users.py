"""SCRAM users (kafka-configs.sh --entity-type users with SCRAM-SHA-256/512 configs)."""

from __future__ import annotations

from pathlib import Path

import typer
from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from fjord.cli.output import BOOTSTRAP, COMMAND_CONFIG, TIMEOUT, admin_client, fail, table

app = typer.Typer(no_args_is_help=True, help=__doc__)
MECHANISMS = {"SCRAM-SHA-256": ScramMechanism.SCRAM_SHA_256, "SCRAM-SHA-512": ScramMechanism.SCRAM_SHA_512}
MECHANISM = typer.Option(["SCRAM-SHA-256", "SCRAM-SHA-512"], "--mechanism", help="SCRAM-SHA-256 or -512.")


def _mechanisms(names: list[str]) -> list[ScramMechanism]:
    unknown = [n for n in names if n.upper() not in MECHANISMS]
    if unknown:
        fail(f"unknown mechanism {unknown[0]}: use SCRAM-SHA-256 or SCRAM-SHA-512")
    return [MECHANISMS[n.upper()] for n in names]


def _error(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if error is not None and hasattr(error, "str") else str(exc)


@app.command("add")
def add(user: str, password: str = typer.Option(..., "--password", prompt=True, hide_input=True,
                                               confirmation_prompt=True, help="The user's password."),
        mechanism: list[str] = MECHANISM,
        iterations: int = typer.Option(4096, "--iterations", help="4096-16384, as Kafka allows."),
        bootstrap: str = BOOTSTRAP, command_config: Path | None = COMMAND_CONFIG) -> None:
    """Create or change a user's SCRAM credentials (the broker stores only salted keys)."""
    admin = admin_client(bootstrap, command_config)
    changes: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, ScramCredentialInfo(m, iterations), password.encode())
        for m in _mechanisms(mechanism)]
    try:
        for future in admin.alter_user_scram_credentials(changes, request_timeout=TIMEOUT).values():
            future.result()
    except KafkaException as exc:
        fail(f"cannot set the credentials of {user}: {_error(exc)}")
    typer.echo(f"Completed updating config for user {user}.")


@app.command("delete")
def delete(user: str, mechanism: list[str] = MECHANISM, bootstrap: str = BOOTSTRAP,
           command_config: Path | None = COMMAND_CONFIG) -> None:
    """Remove a user's SCRAM credentials: new logins fail at once, live sessions at their
    next re-authentication (connections.max.reauth.ms)."""
    admin = admin_client(bootstrap, command_config)
    existing = _describe(admin, [user]).get(user, {})
    wanted = [m for m in _mechanisms(mechanism) if m.name.replace("_", "-") in existing]
    if not wanted:
        fail(f"user {user} has no SCRAM credentials")
    try:
        futures = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(user, m) for m in wanted], request_timeout=TIMEOUT)
        for future in futures.values():
            future.result()
    except KafkaException as exc:
        fail(f"cannot delete the credentials of {user}: {_error(exc)}")
    typer.echo(f"Completed updating config for user {user}.")


def _describe(admin: object, users: list[str] | None) -> dict[str, dict[str, int]]:
    try:
        described = admin.describe_user_scram_credentials(users, request_timeout=TIMEOUT)  # type: ignore[attr-defined]
        results = described.result() if hasattr(described, "result") else {
            name: future.result() for name, future in described.items()}
    except KafkaException as exc:
        if users and "RESOURCE_NOT_FOUND" in _error(exc):
            return {}
        fail(f"cannot describe SCRAM users: {_error(exc)}")
    return {name: {info.mechanism.name.replace("_", "-"): info.iterations
                   for info in description.scram_credential_infos}
            for name, description in results.items()}


@app.command("list")
def list_users(users: list[str] = typer.Argument(None), bootstrap: str = BOOTSTRAP,
               command_config: Path | None = COMMAND_CONFIG) -> None:
    """Users with SCRAM credentials, their mechanisms and iterations (never a password)."""
    admin = admin_client(bootstrap, command_config)
    found = _describe(admin, users or None)
    table(["USER", "MECHANISM", "ITERATIONS"],
          [(name, mech, its) for name, infos in sorted(found.items()) for mech, its in sorted(infos.items())])
