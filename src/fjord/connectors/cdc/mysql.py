"""Debezium's MySQL connector (`io.debezium.connector.mysql.MySqlConnector`) for MariaDB's
binary log: a snapshot, then every committed row change from the ROW-format binlog, as
Debezium change events.

A reader thread follows the binlog (python-mysql-replication, MariaDB GTIDs) and hands over
whole transactions. Every record's source offset says where to resume so that nothing
already delivered is sent again and nothing is skipped: `{"gtids": <position before the
transaction>, "row": <records of it already emitted>}`, and after its last record the
position after it. The worker stores an offset only after Kafka acknowledged its record,
so a SIGKILLed worker resumes exactly after the last acknowledged record it had stored, and
a restarted server is followed again from the last transaction handed over.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fjord.connect.api import ConnectException, SourceConnector, SourceRecord, SourceTask, Task
from fjord.connect.config_def import (
    ConfigDef,
    ConfigValue,
    Importance,
    Type,
    at_least,
    non_empty_string,
    valid_string,
)
from fjord.connect.data import (
    INT64_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    Struct,
)
from fjord.connectors.cdc.envelope import (
    VERSION,
    envelope,
    envelope_schema,
    fill,
    snapshot_field,
    struct_schema,
)
from fjord.connectors.cdc.retry import Backoff
from fjord.connectors.jdbc.dialect import ColumnDef, column_schema, to_connect_value

log = logging.getLogger(__name__)

CONFIG = (
    ConfigDef()
    .define("database.hostname", Type.STRING, validator=non_empty_string,
            importance=Importance.HIGH, group="Connection")
    .define("database.port", Type.INT, 3306, importance=Importance.HIGH, group="Connection")
    .define("database.user", Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            group="Connection")
    .define("database.password", Type.PASSWORD, None, importance=Importance.HIGH,
            group="Connection")
    .define("database.server.id", Type.LONG, 184054, at_least(1), Importance.HIGH,
            "Replica id this connector registers with (unique among the server's replicas)",
            group="Connection")
    .define("topic.prefix", Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            group="Connector")
    .define("database.include.list", Type.LIST, "", importance=Importance.HIGH, group="Filters")
    .define("database.exclude.list", Type.LIST, "", importance=Importance.MEDIUM, group="Filters")
    .define("table.include.list", Type.LIST, "", importance=Importance.HIGH, group="Filters")
    .define("table.exclude.list", Type.LIST, "", importance=Importance.MEDIUM, group="Filters")
    .define("snapshot.mode", Type.STRING, "initial",
            valid_string("initial", "always", "never", "no_data", "schema_only", "initial_only",
                         "when_needed"), Importance.MEDIUM, group="Connector")
    .define("tombstones.on.delete", Type.BOOLEAN, True, importance=Importance.MEDIUM,
            group="Connector")
    .define("max.batch.size", Type.INT, 2048, at_least(1), Importance.MEDIUM, group="Connector")
    .define("max.queue.size", Type.INT, 8192, at_least(1), Importance.LOW, group="Connector")
    .define("poll.interval.ms", Type.LONG, 500, at_least(1), Importance.MEDIUM, group="Connector")
    .define("errors.max.retries", Type.INT, -1, at_least(-1), Importance.LOW, group="Connector")
    .define("errors.retry.delay.initial.ms", Type.LONG, 300, at_least(1), Importance.LOW,
            group="Connector")
    .define("errors.retry.delay.max.ms", Type.LONG, 10000, at_least(1), Importance.LOW,
            group="Connector")
)

SOURCE_SCHEMA = struct_schema("io.debezium.connector.mysql.Source", [
    ("version", STRING_SCHEMA), ("connector", STRING_SCHEMA), ("name", STRING_SCHEMA),
    ("ts_ms", INT64_SCHEMA), ("snapshot", snapshot_field()), ("db", STRING_SCHEMA),
    ("sequence", OPTIONAL_STRING_SCHEMA), ("table", OPTIONAL_STRING_SCHEMA),
    ("server_id", INT64_SCHEMA), ("gtid", OPTIONAL_STRING_SCHEMA), ("file", STRING_SCHEMA),
    ("pos", INT64_SCHEMA), ("row", OPTIONAL_INT32_SCHEMA), ("thread", OPTIONAL_INT64_SCHEMA),
    ("query", OPTIONAL_STRING_SCHEMA)], optional=False)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _connect(p: Mapping[str, Any], database: str | None = None) -> Any:
    import pymysql
    return pymysql.connect(host=str(p["database.hostname"]), port=int(p["database.port"]),
                           user=str(p["database.user"]),
                           password=str(p.get("database.password") or ""), database=database,
                           autocommit=True, connect_timeout=10, charset="utf8mb4",
                           init_command="SET time_zone = '+00:00'")


def _is_connection_error(exc: BaseException) -> bool:
    import pymysql
    return isinstance(exc, pymysql.err.OperationalError | pymysql.err.InterfaceError |
                      ConnectionError | OSError)


def _server_checks(conn: Any) -> list[str]:
    """What Debezium needs from the server, as one-line problems (empty when all is well)."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION(), @@log_bin, @@binlog_format, @@binlog_row_image")
        version, log_bin, fmt, image = cur.fetchone()
        problems = []
        if "mariadb" not in str(version).lower():
            problems.append(f"server {version} is not MariaDB: Fjord's binlog reader follows "
                            "MariaDB GTIDs; MySQL servers are not supported yet")
        if not int(log_bin):
            problems.append("the binary log is off: start the server with log_bin")
        if str(fmt).upper() != "ROW":
            problems.append(f"binlog_format is {fmt}: set binlog_format=ROW")
        if str(image).upper() != "FULL":
            problems.append(f"binlog_row_image is {image}: set binlog_row_image=FULL")
        cur.execute("SHOW VARIABLES LIKE 'binlog_row_metadata'")
        row = cur.fetchone()
        if row is not None and str(row[1]).upper() != "FULL":
            problems.append(f"binlog_row_metadata is {row[1]}: set binlog_row_metadata=FULL so "
                            "row events carry column names")
        return problems


class _Filter:
    def __init__(self, p: Mapping[str, Any]) -> None:
        def pats(key: str) -> list[re.Pattern[str]]:
            return [re.compile(v.strip()) for v in (p[key] or []) if str(v).strip()]
        self.db_in, self.db_out = pats("database.include.list"), pats("database.exclude.list")
        self.t_in, self.t_out = pats("table.include.list"), pats("table.exclude.list")

    def __call__(self, db: str, table: str) -> bool:
        if db in ("mysql", "information_schema", "performance_schema", "sys"):
            return False
        if self.db_in and not any(p.fullmatch(db) for p in self.db_in):
            return False
        if any(p.fullmatch(db) for p in self.db_out):
            return False
        full = f"{db}.{table}"
        if self.t_in:
            return any(p.fullmatch(full) for p in self.t_in)
        return not any(p.fullmatch(full) for p in self.t_out)


@dataclass
class _Table:
    db: str
    name: str
    topic: str
    columns: list[str]
    key_columns: list[str]
    key_schema: Schema | None
    value_schema: Schema
    envelope_schema: Schema


@dataclass
class _Txn:
    gtid: str | None
    before: str  # GTID position before this transaction
    after: str  # ... and after it
    file: str
    pos: int
    ts: int
    changes: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]]


def _advance(position: str, gtid: str) -> str:
    """A MariaDB GTID position (`domain-server-seq,...`) moved past `gtid`."""
    domains = {p.split("-")[0]: p for p in position.split(",") if p}
    domains[gtid.split("-")[0]] = gtid
    return ",".join(domains[d] for d in sorted(domains, key=int))


class MySqlConnector(SourceConnector):
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
        host = {v.name: v for v in results}["database.hostname"]
        try:
            conn = _connect(CONFIG.parse(connector_configs))
        except Exception as exc:
            host.add_error(f"Unable to connect: {_reason(exc)}")
            return results
        try:
            for problem in _server_checks(conn):
                host.add_error(problem)
        finally:
            conn.close()
        return results

    def start(self, props: dict[str, str]) -> None:
        CONFIG.parse(props)
        self._props = dict(props)

    def task_class(self) -> type[Task]:
        return MySqlConnectorTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self._props)]

    def stop(self) -> None:
        pass

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[Any, Mapping[str, Any] | None]) -> bool:
        return True


class MySqlConnectorTask(SourceTask):
    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._queue: queue.Queue[_Txn | BaseException] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._stream: Any = None
        self._tables: dict[tuple[str, str], _Table] = {}
        self._conn: Any = None
        self._snapshot_rows: list[SourceRecord] | None = None

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        self.p = CONFIG.parse(props)
        self._stopped.clear()
        self.prefix = str(self.p["topic.prefix"])
        self.partition = {"server": self.prefix}
        self.filter = _Filter(self.p)
        self._queue = queue.Queue(maxsize=max(1, int(self.p["max.queue.size"]) // 16))
        self.backoff = Backoff(int(self.p["errors.max.retries"]),
                               int(self.p["errors.retry.delay.initial.ms"]),
                               int(self.p["errors.retry.delay.max.ms"]), self._stopped,
                               f"Reading the binlog of {self.p['database.hostname']}:"
                               f"{self.p['database.port']}")
        stored = self.context.offset_storage_reader().offset(self.partition) or {}
        mode = str(self.p["snapshot.mode"])
        finished = bool(stored) and (not stored.get("snapshot") or
                                     bool(stored.get("last_snapshot_record")))
        self._need_snapshot = mode == "always" or (mode in ("initial", "initial_only",
                                                            "when_needed") and not finished)
        self._position: str | None = str(stored["gtids"]) if "gtids" in stored and \
            not self._need_snapshot else None
        self._skip = int(stored.get("row") or 0) if not self._need_snapshot else 0

    def stop(self) -> None:
        self._stopped.set()
        self._stop_reader()
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    # -- catalog
    def _catalog(self) -> Any:
        if self._conn is None:
            self._conn = _connect(self.p)
            problems = _server_checks(self._conn)
            if problems:
                raise ConnectException("; ".join(problems))
        return self._conn

    def _table(self, db: str, name: str, refresh: bool = False) -> _Table:
        found = self._tables.get((db, name))
        if found is not None and not refresh:
            return found
        conn = self._catalog()
        with conn.cursor() as cur:
            cur.execute("SELECT column_name, data_type, is_nullable, numeric_precision, "
                        "numeric_scale, column_type, column_key FROM information_schema.columns "
                        "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                        (db, name))
            rows = cur.fetchall()
        defs = []
        keys = []
        for r in rows:
            type_name = str(r[1]).lower()
            precision = r[3]
            if type_name == "bit":
                ctype = str(r[5]).lower()
                precision = int(ctype[4:-1]) if ctype.startswith("bit(") else 1
            defs.append(ColumnDef(r[0], type_name, r[2] == "YES", precision, r[4],
                                  "unsigned" in str(r[5]).lower()))
            if r[6] == "PRI":
                keys.append(r[0])
        topic = f"{self.prefix}.{db}.{name}"
        schemas = {d.name: column_schema(d, "none") for d in defs}
        value_schema = struct_schema(f"{topic}.Value", [(d.name, schemas[d.name]) for d in defs],
                                     optional=True)
        key_schema = struct_schema(f"{topic}.Key", [(k, schemas[k]) for k in keys],
                                   optional=False) if keys else None
        table = _Table(db, name, topic, [d.name for d in defs], keys, key_schema, value_schema,
                       envelope_schema(topic, value_schema, SOURCE_SCHEMA))
        self._tables[(db, name)] = table
        return table

    def _row(self, table: _Table, values: Mapping[str, Any] | None) -> Struct | None:
        if values is None:
            return None
        if set(values) - set(table.columns):
            table = self._table(table.db, table.name, refresh=True)  # a column was added
        struct = Struct(table.value_schema)
        for field in table.value_schema.fields:
            if field.name in values:
                struct.put(field.name, to_connect_value(field.schema, values[field.name]))
        return struct

    def _records(self, table: _Table, op: str, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None, source: Struct) -> list[SourceRecord]:
        if (after and set(after) - set(table.columns)) or (before and set(before) -
                                                            set(table.columns)):
            table = self._table(table.db, table.name, refresh=True)
        before_row, after_row = self._row(table, before), self._row(table, after)
        row = after_row if after_row is not None else before_row
        key = (fill(table.key_schema, {k: row.get(k) for k in table.key_columns})
               if table.key_schema is not None and row is not None else None)
        value = envelope(table.envelope_schema, op, before_row, after_row, source,
                         int(time.time() * 1000))
        out = [SourceRecord.create(self.partition, None, table.topic, None, table.key_schema, key,
                                   table.envelope_schema, value)]
        if op == "d" and self.p["tombstones.on.delete"]:
            out.append(SourceRecord.create(self.partition, None, table.topic, None,
                                           table.key_schema, key, None, None))
        return out

    def _source(self, table: _Table, ts_ms: int, snapshot: str, gtid: str | None, file: str,
                pos: int, row: int) -> Struct:
        return fill(SOURCE_SCHEMA, {"version": VERSION, "connector": "mysql", "name": self.prefix,
                                    "ts_ms": ts_ms, "snapshot": snapshot, "db": table.db,
                                    "table": table.name, "server_id": 0, "gtid": gtid,
                                    "file": file, "pos": pos, "row": row})

    # -- snapshot
    def _snapshot(self) -> list[SourceRecord]:
        conn = self._catalog()
        with conn.cursor() as cur:
            cur.execute("SELECT @@gtid_binlog_pos")
            position = str(cur.fetchone()[0] or "")
            cur.execute("SELECT table_schema, table_name FROM information_schema.tables WHERE "
                        "table_type = 'BASE TABLE' ORDER BY 1, 2")
            tables = [(d, t) for d, t in cur.fetchall() if self.filter(d, t)]
        records: list[SourceRecord] = []
        now = int(time.time() * 1000)
        snap = _connect(self.p)
        try:
            with snap.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                for db, name in tables:
                    table = self._table(db, name)
                    cols = ", ".join(f"`{c}`" for c in table.columns)
                    cur.execute(f"SELECT {cols} FROM `{db}`.`{name}`")
                    for row in cur.fetchall():
                        source = self._source(table, now, "true", None, "", 0, 0)
                        records.extend(self._records(table, "r", None, dict(zip(table.columns, row,
                                                                                strict=True)),
                                                     source))
                cur.execute("COMMIT")
        finally:
            snap.close()
        offset = {"gtids": position, "row": 0, "snapshot": True, "last_snapshot_record": False}
        for record in records:
            record.source_offset = dict(offset)
        if records:
            records[-1].source_offset = {**offset, "last_snapshot_record": True}
            value = records[-1].value
            if isinstance(value, Struct):
                value.get("source").put("snapshot", "last")
        self._position, self._skip = position, 0
        log.info("snapshot: %d records from %d tables at GTID %s", len(records), len(tables),
                 position or "(none)")
        return records

    # -- the binlog reader thread
    def _start_reader(self) -> None:
        from pymysqlreplication import BinLogStreamReader
        from pymysqlreplication.event import MariadbGtidEvent, QueryEvent, RotateEvent, XidEvent
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

        if self._position is None:
            with self._catalog().cursor() as cur:
                cur.execute("SELECT @@gtid_binlog_pos")
                self._position = str(cur.fetchone()[0] or "")
        settings = {"host": str(self.p["database.hostname"]), "port": int(self.p["database.port"]),
                    "user": str(self.p["database.user"]),
                    "passwd": str(self.p["database.password"] or "")}
        self._stream = BinLogStreamReader(
            connection_settings=settings, server_id=int(self.p["database.server.id"]),
            blocking=True, is_mariadb=True, auto_position=self._position,
            only_events=[MariadbGtidEvent, QueryEvent, XidEvent, RotateEvent, WriteRowsEvent,
                         UpdateRowsEvent, DeleteRowsEvent], slave_heartbeat=1)
        stream, position, out = self._stream, self._position, self._queue

        def read() -> None:
            txn: _Txn | None = None
            current = position
            try:
                for event in stream:
                    if self._stopped.is_set():
                        return
                    if isinstance(event, MariadbGtidEvent):
                        txn = _Txn(event.gtid, current, _advance(current, event.gtid),
                                   stream.log_file, int(event.packet.log_pos), int(event.timestamp),
                                   [])
                    elif isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                        if txn is None:
                            continue
                        db, table = str(event.schema), str(event.table)
                        if not self.filter(db, table):
                            continue
                        for row in event.rows:
                            if isinstance(event, WriteRowsEvent):
                                txn.changes.append(("c", db, table, None, row["values"]))
                            elif isinstance(event, UpdateRowsEvent):
                                txn.changes.append(("u", db, table, row["before_values"],
                                                    row["after_values"]))
                            else:
                                txn.changes.append(("d", db, table, row["values"], None))
                    elif txn is not None and (isinstance(event, XidEvent) or (
                            isinstance(event, QueryEvent) and
                            str(event.query).strip().upper() != "BEGIN")):
                        # XID: an InnoDB commit; a query: COMMIT (non-transactional tables)
                        # or DDL, which is a transaction of its own
                        if isinstance(event, QueryEvent) and \
                                not str(event.query).strip().upper().startswith("COMMIT"):
                            self._tables.clear()  # DDL: read the column lists again
                        current = txn.after
                        while not self._stopped.is_set():
                            try:
                                out.put(txn, timeout=0.5)
                                break
                            except queue.Full:
                                continue
                        txn = None
            except BaseException as exc:  # handed to poll(), which retries or fails the task
                if not self._stopped.is_set():
                    out.put(exc)

        self._reader = threading.Thread(target=read, name="binlog-reader", daemon=True)
        self._reader.start()

    def _stop_reader(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(5)

    def _txn_records(self, txn: _Txn) -> list[SourceRecord]:
        records: list[SourceRecord] = []
        for index, (op, db, name, before, after) in enumerate(txn.changes):
            table = self._table(db, name)
            source = self._source(table, txn.ts * 1000, "false", txn.gtid, txn.file, txn.pos, index)
            records.extend(self._records(table, op, before, after, source))
        for number, record in enumerate(records, start=1):
            done = number == len(records)
            record.source_offset = {"gtids": txn.after if done else txn.before,
                                    "row": 0 if done else number, "file": txn.file,
                                    "pos": txn.pos, "ts_sec": txn.ts}
        return records

    def poll(self) -> list[SourceRecord] | None:
        if self._stopped.is_set():
            return None
        try:
            if self._need_snapshot:
                records = self._snapshot()
                self._need_snapshot = False
                if records:
                    return records
            if self.p["snapshot.mode"] == "initial_only":
                self._stopped.wait(1.0)
                return None
            if self._reader is None:
                self._start_reader()
            out: list[SourceRecord] = []
            deadline = time.monotonic() + int(self.p["poll.interval.ms"]) / 1000.0
            while len(out) < int(self.p["max.batch.size"]):
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if isinstance(item, BaseException):
                    raise item
                records = self._txn_records(item)
                self._position = item.after
                if self._skip:
                    records, self._skip = records[self._skip:], 0  # emitted before a restart
                out.extend(records)
            self.backoff.success()
            return out
        except ConnectException:
            raise
        except Exception as exc:
            if not _is_connection_error(exc):
                raise ConnectException(f"Reading the MariaDB binlog failed: {_reason(exc)}") from exc
            self._stop_reader()
            self._queue = queue.Queue(maxsize=self._queue.maxsize)
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None
            self.backoff.failed(_reason(exc))
            return None

