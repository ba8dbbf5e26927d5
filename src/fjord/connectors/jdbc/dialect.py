"""What differs between databases: connecting, quoting, the catalog, type mapping, upserts.

One Dialect per database family, like the Confluent connector's DatabaseDialect. Everything a
source or sink does goes through these methods, so the connectors themselves hold no SQL that
only one database understands. Sessions run in UTC so `timestamp` columns without a zone map
to Connect's Timestamp the way Confluent's default `db.timezone=UTC` does.
"""

from __future__ import annotations

import datetime
import decimal
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fjord.connect.api import ConnectException
from fjord.connect.data import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    DATE_LOGICAL_NAME,
    DECIMAL_LOGICAL_NAME,
    DECIMAL_SCALE_PROP,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME,
    Schema,
    SchemaType,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)
from fjord.connectors.jdbc.url import JdbcUrl


@dataclass(frozen=True)
class ColumnDef:
    """A column as the catalog describes it."""

    name: str
    type_name: str  # lower case, without length/precision ("integer", "numeric", "varchar")
    nullable: bool
    precision: int | None = None
    scale: int | None = None
    unsigned: bool = False


def _optional(schema: Schema, nullable: bool) -> Schema:
    if not nullable:
        return schema
    return Schema(schema.type, True, None, schema.name, schema.version, schema.doc,
                  schema.parameters)


def _decimal_or_best_fit(col: ColumnDef, numeric_mapping: str) -> Schema:
    precision, scale = col.precision, col.scale
    if precision is None or precision <= 0 or scale is None or scale < 0:
        # Unbounded NUMERIC has no fixed scale, which Connect's Decimal needs.
        return FLOAT64_SCHEMA
    if numeric_mapping in ("best_fit", "best_fit_eager_double", "precision_only") and scale == 0:
        if precision < 3:
            return INT8_SCHEMA
        if precision < 5:
            return INT16_SCHEMA
        if precision < 10:
            return INT32_SCHEMA
        if precision < 19:
            return INT64_SCHEMA
    if numeric_mapping in ("best_fit", "best_fit_eager_double") and scale > 0:
        return FLOAT64_SCHEMA
    return decimal_schema(scale)


_INTS = {"tinyint": INT8_SCHEMA, "smallint": INT16_SCHEMA, "int2": INT16_SCHEMA,
         "mediumint": INT32_SCHEMA, "int": INT32_SCHEMA, "integer": INT32_SCHEMA,
         "int4": INT32_SCHEMA, "serial": INT32_SCHEMA, "bigint": INT64_SCHEMA, "int8": INT64_SCHEMA,
         "bigserial": INT64_SCHEMA, "smallserial": INT16_SCHEMA}
_WIDER = {SchemaType.INT8: INT16_SCHEMA, SchemaType.INT16: INT32_SCHEMA,
          SchemaType.INT32: INT64_SCHEMA, SchemaType.INT64: decimal_schema(0)}


def column_schema(col: ColumnDef, numeric_mapping: str = "none") -> Schema:
    """The Connect schema of a column (Confluent's mapping, per the JDBC type it would report)."""
    name = col.type_name
    schema: Schema
    if name in _INTS:
        schema = _WIDER[_INTS[name].type] if col.unsigned else _INTS[name]
    elif name in ("real", "float4", "float"):
        schema = FLOAT32_SCHEMA
    elif name in ("double", "double precision", "float8"):
        schema = FLOAT64_SCHEMA
    elif name in ("numeric", "decimal"):
        schema = _decimal_or_best_fit(col, numeric_mapping)
    elif name in ("boolean", "bool") or (name == "bit" and (col.precision or 1) == 1):
        schema = BOOLEAN_SCHEMA
    elif name in ("bytea", "blob", "tinyblob", "mediumblob", "longblob", "binary", "varbinary",
                  "bit"):
        schema = BYTES_SCHEMA
    elif name == "date":
        schema = date_schema()
    elif name in ("time", "time without time zone", "time with time zone", "timetz"):
        schema = time_schema()
    elif name in ("timestamp", "datetime", "timestamp without time zone",
                  "timestamp with time zone", "timestamptz"):
        schema = timestamp_schema()
    elif name == "year":
        schema = INT32_SCHEMA
    else:
        schema = STRING_SCHEMA  # text types, json, uuid, enums, anything else as its text
    return _optional(schema, col.nullable)


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def to_connect_value(schema: Schema, value: Any) -> Any:
    """A driver's value → the Python value Connect's data model carries for `schema`."""
    if value is None:
        return None
    name = schema.name
    if name == TIMESTAMP_LOGICAL_NAME:
        if isinstance(value, datetime.datetime):
            return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        if isinstance(value, int | float):
            return _EPOCH + datetime.timedelta(milliseconds=value)
        if isinstance(value, str):
            parsed = datetime.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
    if name == DATE_LOGICAL_NAME:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, str):
            return datetime.date.fromisoformat(value[:10])
        return value
    if name == TIME_LOGICAL_NAME:
        if isinstance(value, datetime.timedelta):  # MySQL TIME arrives as a duration
            return (datetime.datetime.min + value).time()
        if isinstance(value, str):
            return datetime.time.fromisoformat(value)
        if isinstance(value, datetime.time) and value.tzinfo is not None:
            return value.replace(tzinfo=None)
        return value
    if name == DECIMAL_LOGICAL_NAME:
        scale = int((schema.parameters or {}).get(DECIMAL_SCALE_PROP, "0"))
        return decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-scale))
    kind = schema.type
    if kind in (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64):
        return int(value)
    if kind in (SchemaType.FLOAT32, SchemaType.FLOAT64):
        return float(value)
    if kind is SchemaType.BOOLEAN:
        return bool(value)
    if kind is SchemaType.BYTES:
        return bytes(value) if not isinstance(value, str) else value.encode()
    if kind is SchemaType.STRING:
        return value if isinstance(value, str) else str(value)
    return value


class Dialect:
    """The PostgreSQL-flavoured defaults; MySQL and SQLite override what differs."""

    name = "generic"
    placeholder = "%s"

    def __init__(self, url: JdbcUrl) -> None:
        self.url = url

    # -- connections
    def connect(self, user: str | None, password: str | None, timeout_s: float) -> Any:
        raise NotImplementedError

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        """Errors that mean the database (not the data) is the problem: worth a retry."""
        raise NotImplementedError

    # -- names
    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def table_ref(self, table: str) -> str:
        return ".".join(self.quote(part) for part in table.split("."))

    # -- catalog
    def list_tables(self, conn: Any) -> list[str]:
        raise NotImplementedError

    def describe(self, conn: Any, table: str) -> list[ColumnDef]:
        raise NotImplementedError

    def current_timestamp(self, conn: Any) -> datetime.datetime:
        row = _fetchone(conn, "SELECT CURRENT_TIMESTAMP")
        value = row[0]
        if isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)

    # -- DDL for the sink
    def sql_type(self, schema: Schema, is_key: bool) -> str:
        name = schema.name
        if name == DECIMAL_LOGICAL_NAME:
            return "DECIMAL"
        if name == DATE_LOGICAL_NAME:
            return "DATE"
        if name == TIME_LOGICAL_NAME:
            return "TIME"
        if name == TIMESTAMP_LOGICAL_NAME:
            return "TIMESTAMP"
        return {SchemaType.INT8: "SMALLINT", SchemaType.INT16: "SMALLINT", SchemaType.INT32: "INT",
                SchemaType.INT64: "BIGINT", SchemaType.FLOAT32: "REAL",
                SchemaType.FLOAT64: "DOUBLE PRECISION", SchemaType.BOOLEAN: "BOOLEAN",
                SchemaType.STRING: "TEXT", SchemaType.BYTES: "BYTEA"}.get(schema.type, "TEXT")

    def column_definition(self, name: str, schema: Schema, is_key: bool) -> str:
        text = f"{self.quote(name)} {self.sql_type(schema, is_key)}"
        if schema.default is not None and schema.type is not SchemaType.BYTES:
            text += f" DEFAULT {self.literal(schema.default)}"
        if not schema.optional:
            text += " NOT NULL"
        return text

    def literal(self, value: Any) -> str:
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int | float | decimal.Decimal):
            return str(value)
        return "'" + str(value).replace("'", "''") + "'"

    def create_table_sql(self, table: str, fields: Sequence[tuple[str, Schema]],
                         key_fields: Sequence[str]) -> str:
        cols = [self.column_definition(name, schema, name in key_fields) for name, schema in fields]
        if key_fields:
            cols.append("PRIMARY KEY(" + ", ".join(self.quote(k) for k in key_fields) + ")")
        return f"CREATE TABLE {self.table_ref(table)} (\n" + ",\n".join(cols) + ")"

    def add_column_sql(self, table: str, name: str, schema: Schema) -> str:
        return f"ALTER TABLE {self.table_ref(table)} ADD {self.column_definition(name, schema, False)}"

    # -- DML for the sink
    def insert_sql(self, table: str, columns: Sequence[str]) -> str:
        marks = ", ".join([self.placeholder] * len(columns))
        cols = ", ".join(self.quote(c) for c in columns)
        return f"INSERT INTO {self.table_ref(table)}({cols}) VALUES({marks})"

    def upsert_sql(self, table: str, key_columns: Sequence[str], columns: Sequence[str]) -> str:
        others = [c for c in columns if c not in key_columns]
        action = ("DO UPDATE SET " + ", ".join(f"{self.quote(c)}=EXCLUDED.{self.quote(c)}"
                                                for c in others)) if others else "DO NOTHING"
        conflict = ", ".join(self.quote(k) for k in key_columns)
        return f"{self.insert_sql(table, columns)} ON CONFLICT ({conflict}) {action}"

    def update_sql(self, table: str, key_columns: Sequence[str], columns: Sequence[str]) -> str:
        others = [c for c in columns if c not in key_columns]
        sets = ", ".join(f"{self.quote(c)} = {self.placeholder}" for c in others)
        where = " AND ".join(f"{self.quote(k)} = {self.placeholder}" for k in key_columns)
        return f"UPDATE {self.table_ref(table)} SET {sets} WHERE {where}"

    def delete_sql(self, table: str, key_columns: Sequence[str]) -> str:
        where = " AND ".join(f"{self.quote(k)} = {self.placeholder}" for k in key_columns)
        return f"DELETE FROM {self.table_ref(table)} WHERE {where}"

    def bind(self, value: Any) -> Any:
        """A Connect value → what the driver accepts as a parameter."""
        return value


def _fetchone(conn: Any, sql: str, params: Sequence[Any] = ()) -> Any:
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        return cur.fetchone()
    finally:
        cur.close()


def _fetchall(conn: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    cur = conn.cursor()
    try:
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        cur.close()


class PostgresDialect(Dialect):
    name = "PostgreSqlDatabaseDialect"

    def connect(self, user: str | None, password: str | None, timeout_s: float) -> Any:
        import psycopg
        kwargs: dict[str, Any] = {"host": self.url.host, "port": self.url.port,
                                  "dbname": self.url.database,
                                  "connect_timeout": max(1, int(timeout_s)),
                                  "options": "-c TimeZone=UTC"}
        user = user or self.url.params.get("user")
        password = password or self.url.params.get("password")
        if user:
            kwargs["user"] = user
        if password:
            kwargs["password"] = password
        return psycopg.connect(**kwargs)

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        import psycopg
        return (psycopg.OperationalError, psycopg.InterfaceError)

    def list_tables(self, conn: Any) -> list[str]:
        rows = _fetchall(conn, "SELECT table_schema, table_name FROM information_schema.tables "
                               "WHERE table_type IN ('BASE TABLE', 'VIEW') AND table_schema NOT IN "
                               "('pg_catalog', 'information_schema') ORDER BY 1, 2")
        return [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]

    def describe(self, conn: Any, table: str) -> list[ColumnDef]:
        schema, _, name = table.rpartition(".")
        rows = _fetchall(conn, "SELECT column_name, data_type, is_nullable, numeric_precision, "
                               "numeric_scale, character_maximum_length FROM information_schema.columns "
                               "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                         (schema or "public", name))
        return [ColumnDef(r[0], r[1].lower(), r[2] == "YES", r[3] if r[3] is not None else r[5], r[4])
                for r in rows]


class MySqlDialect(Dialect):
    name = "MySqlDatabaseDialect"

    def connect(self, user: str | None, password: str | None, timeout_s: float) -> Any:
        import pymysql
        return pymysql.connect(host=self.url.host, port=self.url.port,
                               database=self.url.database or None,
                               user=user or self.url.params.get("user") or "",
                               password=password or self.url.params.get("password") or "",
                               connect_timeout=max(1, int(timeout_s)), autocommit=False,
                               init_command="SET time_zone = '+00:00'", charset="utf8mb4")

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        import pymysql
        return (pymysql.err.OperationalError, pymysql.err.InterfaceError)

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def list_tables(self, conn: Any) -> list[str]:
        return [r[0] for r in _fetchall(conn, "SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = DATABASE() ORDER BY 1")]

    def describe(self, conn: Any, table: str) -> list[ColumnDef]:
        schema, _, name = table.rpartition(".")
        rows = _fetchall(conn, "SELECT column_name, data_type, is_nullable, numeric_precision, "
                               "numeric_scale, column_type, datetime_precision "
                               "FROM information_schema.columns "
                               "WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s "
                               "ORDER BY ordinal_position", (schema or None, name))
        out = []
        for r in rows:
            column_type = str(r[5]).lower()
            type_name = str(r[1]).lower()
            precision = r[3]
            if type_name == "bit":  # bit(n): n is in column_type
                precision = int(column_type[4:-1]) if column_type.startswith("bit(") else 1
            out.append(ColumnDef(r[0], type_name, r[2] == "YES", precision, r[4],
                                 "unsigned" in column_type))
        return out

    def sql_type(self, schema: Schema, is_key: bool) -> str:
        name = schema.name
        if name == DECIMAL_LOGICAL_NAME:
            scale = int((schema.parameters or {}).get(DECIMAL_SCALE_PROP, "0"))
            return f"DECIMAL(65,{scale})"
        if name == DATE_LOGICAL_NAME:
            return "DATE"
        if name == TIME_LOGICAL_NAME:
            return "TIME(3)"
        if name == TIMESTAMP_LOGICAL_NAME:
            return "DATETIME(3)"
        if schema.type is SchemaType.STRING:
            return "VARCHAR(256)" if is_key else "TEXT"
        if schema.type is SchemaType.BYTES:
            return "VARBINARY(1024)" if is_key else "BLOB"
        return {SchemaType.INT8: "TINYINT", SchemaType.INT16: "SMALLINT", SchemaType.INT32: "INT",
                SchemaType.INT64: "BIGINT", SchemaType.FLOAT32: "FLOAT", SchemaType.FLOAT64: "DOUBLE",
                SchemaType.BOOLEAN: "TINYINT"}.get(schema.type, "TEXT")

    def upsert_sql(self, table: str, key_columns: Sequence[str], columns: Sequence[str]) -> str:
        others = [c for c in columns if c not in key_columns] or list(key_columns)
        updates = ", ".join(f"{self.quote(c)}=VALUES({self.quote(c)})" for c in others)
        return f"{self.insert_sql(table, columns)} ON DUPLICATE KEY UPDATE {updates}"

    def bind(self, value: Any) -> Any:
        if isinstance(value, datetime.datetime) and value.tzinfo is not None:
            return value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value


class SqliteDialect(Dialect):
    name = "SqliteDatabaseDialect"
    placeholder = "?"

    def connect(self, user: str | None, password: str | None, timeout_s: float) -> Any:
        path = self.url.path
        if path != ":memory:":
            import os
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise sqlite3.OperationalError(f"unable to open database file {path}: "
                                               f"directory {parent} does not exist")
        return sqlite3.connect(path, timeout=timeout_s, check_same_thread=False)

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.OperationalError,)

    def list_tables(self, conn: Any) -> list[str]:
        return [r[0] for r in _fetchall(conn, "SELECT name FROM sqlite_master WHERE type IN "
                                              "('table', 'view') AND name NOT LIKE 'sqlite_%' "
                                              "ORDER BY 1")]

    def describe(self, conn: Any, table: str) -> list[ColumnDef]:
        rows = _fetchall(conn, f"PRAGMA table_info({self.quote(table)})")
        return [self._column(r[1], str(r[2] or ""), not r[3] and not r[5]) for r in rows]

    @staticmethod
    def _column(name: str, declared: str, nullable: bool) -> ColumnDef:
        upper = declared.upper()
        base = upper.split("(")[0].strip().lower()
        precision = scale = None
        if "(" in upper:
            numbers = upper[upper.index("(") + 1:upper.rindex(")")].split(",")
            try:
                precision = int(numbers[0])
                scale = int(numbers[1]) if len(numbers) > 1 else 0
            except ValueError:
                pass
        if base in ("date", "time", "datetime", "timestamp", "boolean", "numeric", "decimal",
                    "real", "float", "double", "smallint", "tinyint", "bigint"):
            return ColumnDef(name, base, nullable, precision, scale)
        if "INT" in upper:
            return ColumnDef(name, "bigint", nullable)  # SQLite integers are 64-bit
        if any(t in upper for t in ("CHAR", "CLOB", "TEXT")):
            return ColumnDef(name, "text", nullable)
        if "BLOB" in upper or not upper:
            return ColumnDef(name, "blob", nullable)
        if any(t in upper for t in ("REAL", "FLOA", "DOUB")):
            return ColumnDef(name, "double", nullable)
        return ColumnDef(name, "text", nullable)

    def current_timestamp(self, conn: Any) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def sql_type(self, schema: Schema, is_key: bool) -> str:
        name = schema.name
        if name == DECIMAL_LOGICAL_NAME:
            return "NUMERIC"
        if name in (DATE_LOGICAL_NAME, TIME_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME):
            return {DATE_LOGICAL_NAME: "DATE", TIME_LOGICAL_NAME: "TIME"}.get(name, "TIMESTAMP")
        return {SchemaType.INT8: "INTEGER", SchemaType.INT16: "INTEGER", SchemaType.INT32: "INTEGER",
                SchemaType.INT64: "INTEGER", SchemaType.FLOAT32: "REAL", SchemaType.FLOAT64: "REAL",
                SchemaType.BOOLEAN: "INTEGER", SchemaType.STRING: "TEXT",
                SchemaType.BYTES: "BLOB"}.get(schema.type, "TEXT")

    def literal(self, value: Any) -> str:
        if isinstance(value, bool):
            return "1" if value else "0"
        return super().literal(value)

    def upsert_sql(self, table: str, key_columns: Sequence[str], columns: Sequence[str]) -> str:
        others = [c for c in columns if c not in key_columns]
        action = ("DO UPDATE SET " + ", ".join(f"{self.quote(c)}=excluded.{self.quote(c)}"
                                                for c in others)) if others else "DO NOTHING"
        conflict = ", ".join(self.quote(k) for k in key_columns)
        return f"{self.insert_sql(table, columns)} ON CONFLICT ({conflict}) {action}"

    def bind(self, value: Any) -> Any:
        # sqlite3's date/time adapters are deprecated: store ISO text, as most SQLite apps do.
        if isinstance(value, datetime.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
            return aware.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, datetime.date | datetime.time):
            return value.isoformat()
        if isinstance(value, decimal.Decimal):
            return str(value)
        return value


def dialect_for(url: JdbcUrl) -> Dialect:
    if url.kind == "postgresql":
        return PostgresDialect(url)
    if url.kind == "mysql":
        return MySqlDialect(url)
    if url.kind == "sqlite":
        return SqliteDialect(url)
    raise ConnectException(f"No dialect for {url.describe()}")
