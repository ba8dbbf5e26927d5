"""Configuration keys of the JDBC connectors, named and defaulted as Confluent's are."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from fjord.connect.config_def import (
    ConfigDef,
    ConfigValue,
    Importance,
    Type,
    at_least,
    non_empty_string,
    valid_string,
)
from fjord.connectors.jdbc.connection import ConnectionProvider

CONNECTION_URL = "connection.url"
CONNECTION_USER = "connection.user"
CONNECTION_PASSWORD = "connection.password"
CONNECTION_ATTEMPTS = "connection.attempts"
CONNECTION_BACKOFF = "connection.backoff.ms"

_CONNECTION = (
    ConfigDef()
    .define(CONNECTION_URL, Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            documentation="JDBC connection URL: jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, "
                          "jdbc:sqlite:", group="Database")
    .define(CONNECTION_USER, Type.STRING, None, importance=Importance.HIGH, group="Database")
    .define(CONNECTION_PASSWORD, Type.PASSWORD, None, importance=Importance.HIGH, group="Database")
    .define(CONNECTION_ATTEMPTS, Type.INT, 3, at_least(1), Importance.LOW,
            "Maximum number of attempts to retrieve a valid JDBC connection", group="Database")
    .define(CONNECTION_BACKOFF, Type.LONG, 10000, at_least(0), Importance.LOW,
            "Backoff time in milliseconds between connection attempts", group="Database")
)

SOURCE_CONFIG = (
    ConfigDef(_CONNECTION)
    .define("mode", Type.STRING, "", valid_string("", "bulk", "incrementing", "timestamp",
                                                  "timestamp+incrementing"),
            Importance.HIGH, "bulk, incrementing, timestamp or timestamp+incrementing", group="Mode")
    .define("incrementing.column.name", Type.STRING, "", importance=Importance.MEDIUM, group="Mode")
    .define("timestamp.column.name", Type.LIST, "", importance=Importance.MEDIUM, group="Mode")
    .define("timestamp.initial", Type.LONG, None, importance=Importance.LOW, group="Mode")
    .define("validate.non.null", Type.BOOLEAN, True, importance=Importance.LOW, group="Mode")
    .define("query", Type.STRING, "", importance=Importance.MEDIUM, group="Mode")
    .define("query.suffix", Type.STRING, "", importance=Importance.LOW, group="Mode")
    .define("table.whitelist", Type.LIST, "", importance=Importance.MEDIUM, group="Database")
    .define("table.blacklist", Type.LIST, "", importance=Importance.MEDIUM, group="Database")
    .define("table.include.list", Type.LIST, "", importance=Importance.MEDIUM, group="Database")
    .define("table.exclude.list", Type.LIST, "", importance=Importance.MEDIUM, group="Database")
    .define("table.types", Type.LIST, "TABLE", importance=Importance.LOW, group="Database")
    .define("numeric.mapping", Type.STRING, "none",
            valid_string("none", "precision_only", "best_fit", "best_fit_eager_double"),
            Importance.LOW, group="Database")
    .define("numeric.precision.mapping", Type.BOOLEAN, False, importance=Importance.LOW,
            group="Database")
    .define("db.timezone", Type.STRING, "UTC", importance=Importance.MEDIUM, group="Database")
    .define("poll.interval.ms", Type.INT, 5000, at_least(1), Importance.HIGH, group="Connector")
    .define("batch.max.rows", Type.INT, 100, at_least(1), Importance.LOW, group="Connector")
    .define("table.poll.interval.ms", Type.LONG, 60000, at_least(1), Importance.LOW,
            group="Connector")
    .define("topic.prefix", Type.STRING, validator=None, importance=Importance.HIGH,
            group="Connector")
    .define("timestamp.delay.interval.ms", Type.LONG, 0, at_least(0), Importance.HIGH,
            group="Connector")
)

SINK_CONFIG = (
    ConfigDef(_CONNECTION)
    .define("insert.mode", Type.STRING, "insert", valid_string("insert", "upsert", "update"),
            Importance.HIGH, group="Writes")
    .define("batch.size", Type.INT, 3000, at_least(0), Importance.MEDIUM, group="Writes")
    .define("delete.enabled", Type.BOOLEAN, False, importance=Importance.MEDIUM, group="Writes")
    .define("table.name.format", Type.STRING, "${topic}", importance=Importance.MEDIUM,
            group="Data Mapping")
    .define("pk.mode", Type.STRING, "none", valid_string("none", "kafka", "record_key",
                                                         "record_value"),
            Importance.HIGH, group="Data Mapping")
    .define("pk.fields", Type.LIST, "", importance=Importance.MEDIUM, group="Data Mapping")
    .define("fields.whitelist", Type.LIST, "", importance=Importance.MEDIUM, group="Data Mapping")
    .define("db.timezone", Type.STRING, "UTC", importance=Importance.MEDIUM, group="Data Mapping")
    .define("auto.create", Type.BOOLEAN, False, importance=Importance.MEDIUM, group="DDL Support")
    .define("auto.evolve", Type.BOOLEAN, False, importance=Importance.MEDIUM, group="DDL Support")
    .define("max.retries", Type.INT, 10, at_least(0), Importance.MEDIUM, group="Retries")
    .define("retry.backoff.ms", Type.INT, 3000, at_least(0), Importance.MEDIUM, group="Retries")
)


def provider_from(props: Mapping[str, object]) -> ConnectionProvider:
    return ConnectionProvider(str(props[CONNECTION_URL]), _opt(props.get(CONNECTION_USER)),
                              _opt(props.get(CONNECTION_PASSWORD)),
                              int(str(props.get(CONNECTION_ATTEMPTS) or 3)),
                              int(str(props.get(CONNECTION_BACKOFF) or 10000)))


def _opt(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def check_connection(results: list[ConfigValue], props: Mapping[str, str]) -> list[ConfigValue]:
    """Connect once, as Confluent's validate does: a wrong password or host is refused at create."""
    by_name = {value.name: value for value in results}
    url_value = by_name.get(CONNECTION_URL)
    if url_value is None or url_value.errors or not props.get(CONNECTION_URL):
        return results
    try:
        provider = provider_from(props)
        conn = provider.open_once()
    except Exception as exc:
        url_value.add_error(" ".join(str(exc).split()))
        return results
    with contextlib.suppress(Exception):
        conn.close()
    return results
