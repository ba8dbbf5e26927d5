"""JdbcSinkConnector: records into tables, with Confluent's insert/upsert/update, pk and DDL keys.

Each `put` is one database transaction: the worker commits the consumer offsets only after
`put` returned, so a crash replays at most the batch that had not committed, and with
`insert.mode=upsert` a replay writes the same rows again instead of duplicating them.
Records keep their order: consecutive records for the same table and statement are sent in
one `executemany`, and a delete between two upserts stays between them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fjord.connect.api import (
    ConnectException,
    RetriableException,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Task,
    TopicPartition,
)
from fjord.connect.config_def import ConfigDef, ConfigValue
from fjord.connect.data import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaType,
    Struct,
    logical_from_connect,
)
from fjord.connectors.jdbc.config import SINK_CONFIG, check_connection, provider_from
from fjord.connectors.jdbc.connection import ConnectionProvider, reason

log = logging.getLogger(__name__)
VERSION = "10.8.0-fjord"
KAFKA_PK_DEFAULTS = ["__connect_topic", "__connect_partition", "__connect_offset"]


def _check(parsed: Mapping[str, Any]) -> None:
    mode = parsed["pk.mode"]
    if parsed["delete.enabled"] and mode != "record_key":
        raise ConnectException("Deletes are only supported for pk.mode record_key")
    if parsed["insert.mode"] in ("upsert", "update") and mode == "none":
        raise ConnectException(f"insert.mode={parsed['insert.mode']} needs a primary key: set "
                               "pk.mode to record_key, record_value or kafka")


class JdbcSinkConnector(SinkConnector):
    def __init__(self) -> None:
        self._props: dict[str, str] = {}

    def version(self) -> str:
        return VERSION

    def config(self) -> ConfigDef:
        return SINK_CONFIG

    def validate(self, connector_configs: Mapping[str, str]) -> list[ConfigValue]:
        results = super().validate(connector_configs)
        try:
            _check(SINK_CONFIG.parse(connector_configs))
        except Exception as exc:
            {v.name: v for v in results}["pk.mode"].add_error(str(exc))
        return check_connection(results, connector_configs)

    def start(self, props: dict[str, str]) -> None:
        _check(SINK_CONFIG.parse(props))
        self._props = dict(props)

    def task_class(self) -> type[Task]:
        return JdbcSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self._props) for _ in range(max_tasks)]

    def stop(self) -> None:
        pass


@dataclass(frozen=True)
class _Row:
    """One record reduced to what the statement needs: key columns, value columns, or a delete."""

    table: str
    key: tuple[tuple[str, Schema, Any], ...]
    values: tuple[tuple[str, Schema, Any], ...] | None  # None: delete
    record: SinkRecord


class JdbcSinkTask(SinkTask):
    def __init__(self) -> None:
        self._provider: ConnectionProvider | None = None
        self._parsed: dict[str, Any] = {}
        self._columns: dict[str, dict[str, str]] = {}  # table -> lower name -> actual name
        self._retries_left = 0

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        self._parsed = SINK_CONFIG.parse(props)
        _check(self._parsed)
        self._provider = provider_from(self._parsed)
        self._retries_left = int(self._parsed["max.retries"])

    # -- records to rows
    def _table(self, record: SinkRecord) -> str:
        fmt = str(self._parsed["table.name.format"])
        return fmt.replace("${topic}", record.topic)

    def _fields(self, schema: Schema | None, value: Any, what: str,
                record: SinkRecord) -> list[tuple[str, Schema, Any]]:
        if schema is None or schema.type is not SchemaType.STRUCT or not isinstance(value, Struct):
            raise ConnectException(
                f"Sink connector '{self._table(record)}' is configured with 'delete.enabled=false' "
                f"and 'pk.mode=none' and therefore requires records with a non-null Struct value "
                f"and non-null Struct schema, but found record at (topic='{record.topic}',"
                f"partition={record.kafka_partition},offset={record.kafka_offset}) with a "
                f"{type(value).__name__} {what}. Use a converter with schemas "
                "(JsonConverter with schemas.enable=true, AvroConverter)" if what == "value" else
                f"record {what} at {record.topic}-{record.kafka_partition}@{record.kafka_offset} "
                "is not a Struct with a schema")
        return [(f.name, f.schema, value.get(f.name)) for f in schema.fields]

    def _row(self, record: SinkRecord) -> _Row | None:
        mode = str(self._parsed["pk.mode"])
        pk_fields = list(self._parsed["pk.fields"] or [])
        allowed = set(self._parsed["fields.whitelist"] or [])
        table = self._table(record)
        key: list[tuple[str, Schema, Any]] = []
        if mode == "kafka":
            names = pk_fields or KAFKA_PK_DEFAULTS
            if len(names) != 3:
                raise ConnectException("pk.mode=kafka needs 3 pk.fields (topic, partition, offset)")
            key = [(names[0], STRING_SCHEMA, record.topic),
                   (names[1], INT32_SCHEMA, record.kafka_partition),
                   (names[2], INT64_SCHEMA, record.kafka_offset)]
        elif mode == "record_key":
            if record.key is None:
                raise ConnectException(f"pk.mode=record_key but the record at {record.topic}-"
                                       f"{record.kafka_partition}@{record.kafka_offset} has no key")
            key_schema = record.key_schema
            if key_schema is not None and key_schema.type is SchemaType.STRUCT:
                key = self._fields(key_schema, record.key, "key", record)
                if pk_fields:
                    key = [k for k in key if k[0] in pk_fields]
            else:
                if len(pk_fields) != 1:
                    raise ConnectException("pk.mode=record_key with a primitive key needs exactly one "
                                           "field name in pk.fields")
                schema = key_schema or _infer(record.key)
                key = [(pk_fields[0], schema, record.key)]
        if record.value is None:
            if not self._parsed["delete.enabled"]:
                return None  # tombstones are ignored unless delete.enabled, as in Confluent's sink
            return _Row(table, tuple(key), None, record)
        values = self._fields(record.value_schema, record.value, "value", record)
        if mode == "record_value":
            names = pk_fields or [v[0] for v in values]
            key = [v for v in values if v[0] in names]
            if len(key) != len(names):
                raise ConnectException(f"pk.fields {names} not all found in the record value")
        key_names = {k[0] for k in key}
        values = [v for v in values if v[0] not in key_names and (not allowed or v[0] in allowed)]
        return _Row(table, tuple(key), tuple(values), record)

    # -- DDL
    def _ensure_table(self, conn: Any, row: _Row) -> dict[str, str]:
        provider = self._provider
        assert provider is not None
        dialect = provider.dialect
        known = self._columns.get(row.table)
        wanted = [*row.key, *(row.values or ())]
        if known is not None and all(name.lower() in known for name, _, _ in wanted):
            return known
        defs = dialect.describe(conn, row.table)
        if not defs:
            if not self._parsed["auto.create"]:
                raise ConnectException(f"Table {row.table} is missing and auto.create is disabled")
            if row.values is None:
                raise ConnectException(f"Table {row.table} is missing: cannot create it from a "
                                       "tombstone")
            fields = [(name, schema) for name, schema, _ in wanted]
            log.info("JDBC sink: creating table %s", row.table)
            _execute(conn, dialect.create_table_sql(row.table, fields, [k[0] for k in row.key]))
            defs = dialect.describe(conn, row.table)
        columns = {d.name.lower(): d.name for d in defs}
        missing = [(name, schema) for name, schema, _ in wanted if name.lower() not in columns]
        if missing:
            if not self._parsed["auto.evolve"]:
                raise ConnectException(f"Table {row.table} is missing fields "
                                       f"{[m[0] for m in missing]} and auto.evolve is disabled")
            for name, schema in missing:
                if not schema.optional and schema.default is None:
                    raise ConnectException(
                        f"Cannot ALTER {row.table} to add missing field {name}, as the field is not "
                        "optional and does not have a default value")
                log.info("JDBC sink: adding column %s to %s", name, row.table)
                _execute(conn, dialect.add_column_sql(row.table, name, schema))
            defs = dialect.describe(conn, row.table)
            columns = {d.name.lower(): d.name for d in defs}
        self._columns[row.table] = columns
        return columns

    # -- DML
    def _statement(self, row: _Row, columns: dict[str, str]) -> tuple[str, list[str]]:
        provider = self._provider
        assert provider is not None
        dialect = provider.dialect
        key_cols = [columns[k[0].lower()] for k in row.key]
        if row.values is None:
            return dialect.delete_sql(row.table, key_cols), ["key"]
        value_cols = [columns[v[0].lower()] for v in row.values]
        mode = str(self._parsed["insert.mode"])
        if mode == "upsert":
            return dialect.upsert_sql(row.table, key_cols, key_cols + value_cols), ["key", "values"]
        if mode == "update":
            return dialect.update_sql(row.table, key_cols, key_cols + value_cols), ["values", "key"]
        return dialect.insert_sql(row.table, key_cols + value_cols), ["key", "values"]

    def _params(self, row: _Row, order: Sequence[str]) -> tuple[Any, ...]:
        provider = self._provider
        assert provider is not None
        out: list[Any] = []
        for part in order:
            for _, schema, value in (row.key if part == "key" else (row.values or ())):
                out.append(provider.dialect.bind(_db_value(schema, value)))
        return tuple(out)

    def _write(self, conn: Any, rows: list[_Row]) -> None:
        batch_size = int(self._parsed["batch.size"]) or len(rows) or 1
        pending_sql: str | None = None
        pending: list[tuple[Any, ...]] = []

        def flush() -> None:
            if pending_sql is not None and pending:
                cur = conn.cursor()
                try:
                    cur.executemany(pending_sql, pending)
                finally:
                    cur.close()
            pending.clear()

        for row in rows:
            columns = self._ensure_table(conn, row)
            sql, order = self._statement(row, columns)
            if sql != pending_sql or len(pending) >= batch_size:
                flush()
                pending_sql = sql
            pending.append(self._params(row, order))
        flush()

    def put(self, records: list[SinkRecord]) -> None:
        if not records:
            return
        provider = self._provider
        assert provider is not None
        rows = [row for row in (self._row(r) for r in records) if row is not None]
        if not rows:
            return
        try:
            conn = provider.get()
            self._write(conn, rows)
            conn.commit()
            self._retries_left = int(self._parsed["max.retries"])
        except ConnectException:
            self._rollback()
            raise
        except Exception as exc:
            self._rollback()
            self._columns.clear()  # a failed DDL or a concurrent ALTER: look the tables up again
            if provider.is_connection_error(exc):
                provider.discard()
            elif self._report_each(rows):
                return
            if self._retries_left <= 0:
                raise ConnectException(f"Writing to {provider.url.describe()} failed after "
                                       f"{self._parsed['max.retries']} retries: {reason(exc)}") \
                    from exc
            self._retries_left -= 1
            self.context.timeout(int(self._parsed["retry.backoff.ms"]))
            raise RetriableException(f"Write to {provider.url.describe()} failed, will retry "
                                     f"({self._retries_left} left): {reason(exc)}") from exc

    def _report_each(self, rows: list[_Row]) -> bool:
        """With an errant record reporter (errors.tolerance=all + DLQ), write row by row and send
        the rows the database refuses there, instead of failing the whole batch."""
        reporter = self.context.errant_record_reporter()
        provider = self._provider
        if reporter is None or provider is None:
            return False
        conn = provider.get()
        for row in rows:
            try:
                self._write(conn, [row])
                conn.commit()
            except Exception as exc:
                self._rollback()
                if provider.is_connection_error(exc):
                    raise
                reporter.report(row.record, exc)
        return True

    def _rollback(self) -> None:
        provider = self._provider
        if provider is None:
            return
        try:
            if provider._conn is not None:
                provider._conn.rollback()
        except Exception:
            provider.discard()

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        """Every put already committed its transaction: nothing is buffered here."""

    def stop(self) -> None:
        if self._provider is not None:
            self._provider.close()


def _execute(conn: Any, sql: str) -> None:
    cur = conn.cursor()
    try:
        cur.execute(sql)
    finally:
        cur.close()


def _infer(value: Any) -> Schema:
    if isinstance(value, bool):
        raise ConnectException("A boolean record key cannot be a primary key")
    if isinstance(value, int):
        return INT64_SCHEMA
    return STRING_SCHEMA


def _db_value(schema: Schema, value: Any) -> Any:
    """Connect's wire forms (epoch ints, decimal bytes) back to the Python values drivers bind."""
    if value is None:
        return None
    if schema.name is not None and not isinstance(value, Struct):
        return logical_from_connect(schema, value)
    if schema.type is SchemaType.BYTES and isinstance(value, bytearray | memoryview):
        return bytes(value)
    if schema.type in (SchemaType.STRUCT, SchemaType.ARRAY, SchemaType.MAP):
        raise ConnectException(f"{schema.type.name} fields cannot be written to a column; flatten "
                               "them first (the Flatten transform)")
    return value
