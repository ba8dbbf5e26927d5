"""Debezium's PostgreSQL connector (`io.debezium.connector.postgresql.PostgresConnector`):
a snapshot of the included tables, then every committed insert, update and delete from a
logical replication slot decoded with `pgoutput`, as Debezium change events.

Changes are read with PostgreSQL's SQL interface to the slot
(`pg_logical_slot_peek_binary_changes`), which never moves the slot by itself; the slot is
moved (`pg_replication_slot_advance`) to the end of a transaction only once Kafka has
acknowledged every record of it and of every earlier transaction. So a worker killed at any
moment, or a database restarted under it, loses nothing: the slot still holds whatever Kafka
had not acknowledged, and the only repeats are transactions acknowledged but not yet
confirmed to the slot (a window of one poll). Whole transactions are decoded at a time, in
commit order.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fjord.connect.api import ConnectException, SourceConnector, SourceRecord, SourceTask, Task
from fjord.connect.config_def import ConfigDef, ConfigValue
from fjord.connect.data import (
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaType,
    Struct,
)
from fjord.connectors.cdc import pgoutput
from fjord.connectors.cdc.envelope import (
    HEARTBEAT_KEY,
    HEARTBEAT_VALUE,
    VERSION,
    envelope,
    envelope_schema,
    fill,
    snapshot_field,
    struct_schema,
)
from fjord.connectors.cdc.postgres_config import CONFIG
from fjord.connectors.cdc.postgres_types import TypeMapper
from fjord.connectors.cdc.retry import Backoff

log = logging.getLogger(__name__)
UNAVAILABLE = "__debezium_unavailable_value"

SOURCE_SCHEMA = struct_schema("io.debezium.connector.postgresql.Source", [
    ("version", STRING_SCHEMA), ("connector", STRING_SCHEMA), ("name", STRING_SCHEMA),
    ("ts_ms", INT64_SCHEMA), ("snapshot", snapshot_field()), ("db", STRING_SCHEMA),
    ("sequence", OPTIONAL_STRING_SCHEMA), ("schema", STRING_SCHEMA), ("table", STRING_SCHEMA),
    ("txId", OPTIONAL_INT64_SCHEMA), ("lsn", OPTIONAL_INT64_SCHEMA),
    ("xmin", OPTIONAL_INT64_SCHEMA)], optional=False)


def _connect(props: Mapping[str, Any]) -> Any:
    import psycopg
    return psycopg.connect(host=str(props["database.hostname"]), port=int(props["database.port"]),
                           user=str(props["database.user"]),
                           password=str(props.get("database.password") or "") or None,
                           dbname=str(props["database.dbname"]), autocommit=True,
                           connect_timeout=max(1, int(props["database.connect.timeout.ms"]) // 1000),
                           options="-c TimeZone=UTC -c DateStyle=ISO")


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _patterns(values: Any) -> list[re.Pattern[str]]:
    return [re.compile(v.strip()) for v in (values or []) if str(v).strip()]


class TableFilter:
    """Debezium's include/exclude lists: regular expressions matched against `schema.table`."""

    def __init__(self, parsed: Mapping[str, Any]) -> None:
        self.tables_in = _patterns(parsed["table.include.list"])
        self.tables_out = _patterns(parsed["table.exclude.list"])
        self.schemas_in = _patterns(parsed["schema.include.list"])
        self.schemas_out = _patterns(parsed["schema.exclude.list"])

    def __call__(self, schema: str, table: str) -> bool:
        if schema in ("pg_catalog", "information_schema"):
            return False
        full = f"{schema}.{table}"
        if self.schemas_in and not any(p.fullmatch(schema) for p in self.schemas_in):
            return False
        if any(p.fullmatch(schema) for p in self.schemas_out):
            return False
        if self.tables_in:
            return any(p.fullmatch(full) for p in self.tables_in)
        return not any(p.fullmatch(full) for p in self.tables_out)


@dataclass
class TableInfo:
    """What a change of one table becomes: its topic, schemas and value parsers."""

    oid: int
    schema_name: str
    table: str
    topic: str
    columns: list[str]
    key_index: list[int]
    key_schema: Schema | None
    value_schema: Schema
    envelope_schema: Schema
    parsers: list[Any]
    included: bool


@dataclass
class _Txn:
    end_lsn: int
    outstanding: int


class PostgresConnector(SourceConnector):
    def __init__(self) -> None:
        self._props: dict[str, str] = {}

    def version(self) -> str:
        return VERSION

    def config(self) -> ConfigDef:
        return CONFIG

    def validate(self, connector_configs: Mapping[str, str]) -> list[ConfigValue]:
        results = super().validate(connector_configs)
        if any(v.errors for v in results):
            return results
        by_name = {v.name: v for v in results}
        if connector_configs.get("plugin.name", "pgoutput") != "pgoutput":
            by_name["plugin.name"].add_error("Only plugin.name=pgoutput is supported (built into "
                                             "PostgreSQL 10+)")
        try:
            conn = _connect(CONFIG.parse(connector_configs))
        except Exception as exc:
            by_name["database.hostname"].add_error(
                f"Error while validating connector config: {_reason(exc)}")
            return results
        try:
            level = conn.execute("SHOW wal_level").fetchone()[0]
            if level != "logical":
                by_name["database.hostname"].add_error(
                    f"Postgres server wal_level property must be 'logical' but is: {level}")
        finally:
            conn.close()
        return results

    def start(self, props: dict[str, str]) -> None:
        CONFIG.parse(props)
        self._props = dict(props)

    def task_class(self) -> type[Task]:
        return PostgresConnectorTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self._props)]  # one slot, one reader: Debezium runs a single task too

    def stop(self) -> None:
        pass

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[Any, Mapping[str, Any] | None]) -> bool:
        return True


class PostgresConnectorTask(SourceTask):
    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._conn: Any = None
        self._tables: dict[int, TableInfo] = {}
        self._pending: deque[_Txn] = deque()
        self._by_record: dict[int, _Txn] = {}
        self._durable = 0  # end LSN up to which every change is acknowledged by Kafka
        self._slot_confirmed = 0  # where the slot is (as read at connect, or as we moved it)
        self._emitted_upto = 0
        self._snapshot: Iterator[list[SourceRecord]] | None = None
        self._snapshot_done = False
        self._last_heartbeat = time.monotonic()
        self._idle = False

    def version(self) -> str:
        return VERSION

    # -- lifecycle
    def start(self, props: dict[str, str]) -> None:
        self.p = CONFIG.parse(props)
        if self.p["plugin.name"] != "pgoutput":
            raise ConnectException("Only plugin.name=pgoutput is supported")
        self._stopped.clear()
        self.prefix = str(self.p["topic.prefix"])
        self.slot = str(self.p["slot.name"])
        self.publication = str(self.p["publication.name"])
        self.filter = TableFilter(self.p)
        self.types = TypeMapper(str(self.p["time.precision.mode"]),
                                str(self.p["decimal.handling.mode"]))
        self.partition = {"server": self.prefix}
        self.backoff = Backoff(int(self.p["errors.max.retries"]),
                               int(self.p["errors.retry.delay.initial.ms"]),
                               int(self.p["errors.retry.delay.max.ms"]), self._stopped,
                               f"Reading from PostgreSQL {self.p['database.hostname']}:"
                               f"{self.p['database.port']}/{self.p['database.dbname']}")
        stored = self.context.offset_storage_reader().offset(self.partition) or {}
        # Stored offsets are flushed only after Kafka acknowledged their records: durable.
        self._emitted_upto = int(stored.get("lsn_commit") or 0) if not stored.get("snapshot") else 0
        self._durable = self._emitted_upto
        mode = str(self.p["snapshot.mode"])
        snapshot_finished = bool(stored) and (not stored.get("snapshot") or
                                              bool(stored.get("last_snapshot_record")))
        self._need_snapshot = mode == "always" or (mode in ("initial", "initial_only",
                                                            "when_needed")
                                                   and not snapshot_finished)
        self._snapshot_done = not self._need_snapshot
        self._connect_and_prepare()

    def _connect_and_prepare(self) -> None:
        while True:
            try:
                self._conn = _connect(self.p)
                self._prepare()
                self.backoff.success()
                return
            except Exception as exc:
                if not _is_connection_error(exc):
                    raise ConnectException(f"Cannot start reading PostgreSQL: {_reason(exc)}") \
                        from exc
                self._drop_connection()
                self.backoff.failed(_reason(exc))
                if self._stopped.is_set():
                    return

    def _prepare(self) -> None:
        """Publication and slot exist (made if missing, as Debezium's autocreate does)."""
        conn = self._conn
        level = conn.execute("SHOW wal_level").fetchone()[0]
        if level != "logical":
            raise ConnectException(f"Postgres server wal_level property must be 'logical' but is: "
                                   f"{level}")
        exists = conn.execute("SELECT 1 FROM pg_publication WHERE pubname = %s",
                              (self.publication,)).fetchone()
        mode = str(self.p["publication.autocreate.mode"])
        if not exists:
            if mode == "disabled":
                raise ConnectException(f"Publication {self.publication} does not exist and "
                                       "publication.autocreate.mode=disabled")
            if mode == "filtered":
                tables = ", ".join(f'"{s}"."{t}"' for s, t in self._included_tables())
                if not tables:
                    raise ConnectException("No table matches table.include.list for a filtered "
                                           "publication")
                conn.execute(f'CREATE PUBLICATION "{self.publication}" FOR TABLE {tables}')
            elif mode == "no_tables":
                conn.execute(f'CREATE PUBLICATION "{self.publication}"')
            else:
                conn.execute(f'CREATE PUBLICATION "{self.publication}" FOR ALL TABLES')
        slot = conn.execute("SELECT plugin, confirmed_flush_lsn FROM pg_replication_slots "
                            "WHERE slot_name = %s", (self.slot,)).fetchone()
        if slot is None:
            conn.execute("SELECT pg_create_logical_replication_slot(%s, 'pgoutput')", (self.slot,))
            slot = conn.execute("SELECT plugin, confirmed_flush_lsn FROM pg_replication_slots "
                                "WHERE slot_name = %s", (self.slot,)).fetchone()
            log.info("created replication slot %s at %s", self.slot, slot[1])
        elif slot[0] != "pgoutput":
            raise ConnectException(f"Replication slot {self.slot} uses plugin {slot[0]}, not "
                                   "pgoutput")
        # After a database crash the slot may be behind what we confirmed (it is saved at
        # checkpoints): _advance_slot moves it up to what is durable again.
        self._slot_confirmed = pgoutput.lsn_to_int(str(slot[1]))
        self._slot_lsn = self._slot_confirmed

    def _included_tables(self) -> list[tuple[str, str]]:
        rows = self._conn.execute("SELECT table_schema, table_name FROM information_schema.tables "
                                  "WHERE table_type = 'BASE TABLE' ORDER BY 1, 2").fetchall()
        return [(s, t) for s, t in rows if self.filter(s, t)]

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        self._snapshot = None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                log.debug("closing a broken connection", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        conn = self._conn
        if conn is not None and self.p.get("slot.drop.on.stop"):
            try:
                conn.execute("SELECT pg_drop_replication_slot(%s)", (self.slot,))
            except Exception as exc:
                log.warning("could not drop slot %s: %s", self.slot, _reason(exc))
        self._drop_connection()

    # -- table metadata
    def _table(self, oid: int, namespace: str, name: str,
               columns: list[tuple[str, int, int, bool]]) -> TableInfo:
        # The key is the primary key, as Debezium's: pgoutput flags the replica identity, which
        # under REPLICA IDENTITY FULL is every column.
        catalog = self._conn.execute(
            "SELECT a.attname, a.attnotnull, COALESCE(i.indisprimary, false) FROM pg_attribute a "
            "LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary AND "
            "a.attnum = ANY(i.indkey) WHERE a.attrelid = %s AND a.attnum > 0 AND NOT "
            "a.attisdropped", (oid,)).fetchall()
        notnull = {r[0]: bool(r[1]) for r in catalog}
        primary = {r[0] for r in catalog if r[2]}
        columns = [(name, type_oid, typmod, name in primary) for name, type_oid, typmod, _ in columns]
        topic = f"{self.prefix}.{namespace}.{name}"
        schemas = [self.types.schema(type_oid, typmod, not notnull.get(col, False))
                   for col, type_oid, typmod, _ in columns]
        value_schema = struct_schema(f"{topic}.Value", [(c[0], s) for c, s in zip(columns, schemas,
                                                                                  strict=True)],
                                     optional=True)
        key_index = [i for i, c in enumerate(columns) if c[3]]
        key_schema = struct_schema(f"{topic}.Key", [(columns[i][0], _required(schemas[i]))
                                                    for i in key_index], optional=False) \
            if key_index else None
        return TableInfo(oid, namespace, name, topic, [c[0] for c in columns], key_index,
                         key_schema, value_schema, envelope_schema(topic, value_schema,
                                                                   SOURCE_SCHEMA),
                         [self.types.parser(c[1], s) for c, s in zip(columns, schemas, strict=True)],
                         self.filter(namespace, name))

    def _row(self, info: TableInfo, values: tuple[object, ...] | None) -> Struct | None:
        if values is None:
            return None
        struct = Struct(info.value_schema)
        for index, (column, raw) in enumerate(zip(info.columns, values, strict=False)):
            if raw is None:
                field_schema = info.value_schema.fields[index].schema
                if not field_schema.optional:
                    # a key-only old row (REPLICA IDENTITY DEFAULT) lacks NOT NULL columns:
                    # Debezium's converters put the type's fallback value there
                    struct.put(column, _fallback(field_schema))
                continue
            if raw is pgoutput.UNCHANGED_TOAST:
                field = info.value_schema.fields[index].schema
                if field.type is SchemaType.STRING:
                    struct.put(column, UNAVAILABLE)
                elif field.type is SchemaType.BYTES:
                    struct.put(column, UNAVAILABLE.encode())
                continue
            struct.put(column, info.parsers[index](str(raw)) if isinstance(raw, str) else raw)
        return struct

    def _key(self, info: TableInfo, row: Struct | None) -> Struct | None:
        if info.key_schema is None or row is None:
            return None
        return fill(info.key_schema, {info.columns[i]: row.get_without_default(info.columns[i])
                                      for i in info.key_index})

    def _source(self, info: TableInfo, ts_ms: int, snapshot: str, tx_id: int | None,
                lsn: int | None, last_commit: int | None) -> Struct:
        sequence = json.dumps([str(last_commit) if last_commit else None,
                               str(lsn) if lsn else None])
        return fill(SOURCE_SCHEMA, {"version": VERSION, "connector": "postgresql",
                                    "name": self.prefix, "ts_ms": ts_ms, "snapshot": snapshot,
                                    "db": str(self.p["database.dbname"]), "sequence": sequence,
                                    "schema": info.schema_name, "table": info.table,
                                    "txId": tx_id, "lsn": lsn})

    def _records(self, info: TableInfo, op: str, before: Struct | None, after: Struct | None,
                 source: Struct, offset: dict[str, Any]) -> list[SourceRecord]:
        key = self._key(info, after if after is not None else before)
        value = envelope(info.envelope_schema, op, before, after, source, int(time.time() * 1000))
        out = [SourceRecord.create(self.partition, offset, info.topic, None, info.key_schema, key,
                                   info.envelope_schema, value)]
        if op == "d" and self.p["tombstones.on.delete"]:
            out.append(SourceRecord.create(self.partition, offset, info.topic, None,
                                           info.key_schema, key, None, None))
        return out

    # -- snapshot
    def _snapshot_batches(self) -> Iterator[list[SourceRecord]]:
        """Every included table read in one REPEATABLE READ transaction, as `r` events."""
        conn = _connect(self.p)
        conn.autocommit = False
        batch_size = int(self.p["max.batch.size"])
        try:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            tables = self._included_tables()
            log.info("snapshot of %d tables from %s", len(tables), self.p["database.dbname"])
            infos = []
            for schema_name, table in tables:
                rows = conn.execute(
                    "SELECT a.attname, a.atttypid, a.atttypmod, COALESCE(i.indisprimary, false), "
                    "c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "JOIN pg_attribute a ON a.attrelid = c.oid LEFT JOIN pg_index i ON "
                    "i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey) "
                    "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT "
                    "a.attisdropped ORDER BY a.attnum", (schema_name, table)).fetchall()
                if rows:
                    infos.append(self._table(int(rows[0][4]), schema_name, table,
                                             [(r[0], int(r[1]), int(r[2]), bool(r[3])) for r in rows]))
            now_ms = int(time.time() * 1000)
            pending: list[SourceRecord] = []
            for info in infos:
                cols = ", ".join(f'"{c}"::text' for c in info.columns)
                cursor = conn.cursor(name=f"fjord_snapshot_{info.oid}")
                cursor.execute(f'SELECT {cols} FROM "{info.schema_name}"."{info.table}"')
                while True:
                    rows = cursor.fetchmany(batch_size)
                    if not rows:
                        break
                    for row in rows:
                        after = self._row(info, tuple(row))
                        source = self._source(info, now_ms, "true", None, self._slot_lsn, None)
                        offset = {"lsn": self._slot_lsn, "txId": None, "ts_usec": now_ms * 1000,
                                  "snapshot": True, "last_snapshot_record": False}
                        pending.extend(self._records(info, "r", None, after, source, offset))
                    if len(pending) >= batch_size:
                        yield pending
                        pending = []
                cursor.close()
            conn.commit()
            if pending:
                # Debezium marks the very last snapshot record: the offset says "done".
                last = pending[-1]
                last.source_offset = {**(last.source_offset or {}), "last_snapshot_record": True}
                value = last.value
                if isinstance(value, Struct):
                    value.get("source").put("snapshot", "last")
                yield pending
            else:
                yield [self._snapshot_marker()]
        finally:
            conn.close()

    def _snapshot_marker(self) -> SourceRecord:
        """An empty snapshot still has to be remembered as done: a heartbeat carries the offset."""
        return self._heartbeat({"lsn": self._slot_lsn, "snapshot": True,
                                "last_snapshot_record": True})

    def _heartbeat(self, offset: dict[str, Any]) -> SourceRecord:
        topic = f"{self.p['topic.heartbeat.prefix']}.{self.prefix}"
        return SourceRecord.create(self.partition, offset, topic, None, HEARTBEAT_KEY,
                                   fill(HEARTBEAT_KEY, {"serverName": self.prefix}),
                                   HEARTBEAT_VALUE,
                                   fill(HEARTBEAT_VALUE, {"ts_ms": int(time.time() * 1000)}))

    # -- streaming
    def _advance_slot(self) -> None:
        with self._lock:
            while self._pending and self._pending[0].outstanding <= 0:
                self._durable = max(self._durable, self._pending.popleft().end_lsn)
        if self._durable > self._slot_confirmed:
            self._conn.execute("SELECT pg_replication_slot_advance(%s, %s::pg_lsn)",
                               (self.slot, pgoutput.lsn_to_text(self._durable)))
            self._slot_confirmed = self._durable

    def _stream(self) -> list[SourceRecord]:
        self._advance_slot()
        with self._lock:
            unacked = sum(t.outstanding for t in self._pending)
        limit = int(self.p["max.batch.size"]) + unacked
        rows = self._conn.execute(
            "SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_binary_changes("
            "%s, NULL, %s, 'proto_version', '1', 'publication_names', %s)",
            (self.slot, limit, self.publication)).fetchall()
        out: list[SourceRecord] = []
        begin: pgoutput.Begin | None = None
        txn_records: list[SourceRecord] = []
        for lsn_text, _, data in rows:
            message = pgoutput.decode(bytes(data))
            if isinstance(message, pgoutput.Relation):
                self._tables[message.oid] = self._table(
                    message.oid, message.namespace, message.name,
                    [(c.name, c.type_oid, c.type_modifier, c.is_key) for c in message.columns])
            elif isinstance(message, pgoutput.Begin):
                begin, txn_records = message, []
            elif isinstance(message, pgoutput.Change) and begin is not None:
                info = self._tables.get(message.relation_oid)
                if info is None or not info.included:
                    continue
                lsn = pgoutput.lsn_to_int(lsn_text)
                commit_ms = int(begin.commit_time.timestamp() * 1000)
                source = self._source(info, commit_ms, "false", begin.xid, lsn, self._emitted_upto)
                offset = {"lsn_proc": lsn, "lsn_commit": begin.final_lsn, "lsn": lsn,
                          "txId": begin.xid, "ts_usec": commit_ms * 1000}
                txn_records.extend(self._records(info, message.op, self._row(info, message.old),
                                                 self._row(info, message.new), source, offset))
            elif isinstance(message, pgoutput.Commit):
                if message.end_lsn > self._emitted_upto:
                    self._emitted_upto = message.end_lsn
                    for record in txn_records:
                        # the offset names the commit whose end is durable once this is acked
                        record.source_offset = {**(record.source_offset or {}),
                                                "lsn_commit": message.end_lsn}
                    with self._lock:
                        txn = _Txn(message.end_lsn, len(txn_records))
                        self._pending.append(txn)
                        for record in txn_records:
                            self._by_record[id(record)] = txn
                    out.extend(txn_records)
                begin, txn_records = None, []
        return out

    def poll(self) -> list[SourceRecord] | None:
        if self._stopped.is_set():
            return None
        try:
            if self._conn is None:
                self._connect_and_prepare()
                if self._conn is None:
                    return None
            if not self._snapshot_done:
                if self._snapshot is None:
                    self._snapshot = self._snapshot_batches()
                batch = next(self._snapshot, None)
                if batch is None:
                    self._snapshot, self._snapshot_done = None, True
                    if self.p["snapshot.mode"] == "initial_only":
                        log.info("snapshot.mode=initial_only: snapshot done, not streaming")
                else:
                    self.backoff.success()
                    return batch
            if self.p["snapshot.mode"] == "initial_only":
                self._stopped.wait(1.0)
                return None
            records = self._stream()
            self.backoff.success()
            records += self._maybe_heartbeat()
            if not records:
                self._stopped.wait(int(self.p["poll.interval.ms"]) / 1000.0)
            return records
        except ConnectException:
            raise
        except Exception as exc:
            if not _is_connection_error(exc):
                raise ConnectException(f"Reading changes from PostgreSQL failed: {_reason(exc)}") \
                    from exc
            self._drop_connection()
            self.backoff.failed(_reason(exc))
            return None

    def _maybe_heartbeat(self) -> list[SourceRecord]:
        interval = int(self.p["heartbeat.interval.ms"])
        if interval <= 0 or time.monotonic() - self._last_heartbeat < interval / 1000.0:
            return []
        self._last_heartbeat = time.monotonic()
        query = str(self.p["heartbeat.action.query"] or "")
        if query:
            self._conn.execute(query)
        return [self._heartbeat({"lsn": self._durable, "lsn_commit": self._durable})]

    def commit_record(self, record: SourceRecord, metadata: Any | None) -> None:
        """Kafka acknowledged (or a transform dropped) `record`: count it toward its transaction."""
        with self._lock:
            txn = self._by_record.pop(id(record), None)
            if txn is not None:
                txn.outstanding -= 1


def _fallback(schema: Schema) -> Any:
    import decimal
    if schema.name == "org.apache.kafka.connect.data.Decimal":
        return decimal.Decimal(0)
    if schema.type is SchemaType.STRUCT:
        struct = Struct(schema)
        for item in schema.fields:
            struct.put(item.name, _fallback(item.schema))
        return struct
    return {SchemaType.STRING: "", SchemaType.BYTES: b"", SchemaType.BOOLEAN: False,
            SchemaType.FLOAT32: 0.0, SchemaType.FLOAT64: 0.0}.get(schema.type, 0)


def _required(schema: Schema) -> Schema:
    return Schema(schema.type, False, None, schema.name, schema.version, schema.doc,
                  schema.parameters, schema.fields, schema.key_schema, schema.value_schema)


def _is_connection_error(exc: BaseException) -> bool:
    import psycopg
    return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
