"""One table (or one custom query) read repeatedly in one of Confluent's modes.

bulk re-reads everything each `poll.interval.ms`; incrementing reads rows whose strictly
increasing column passed the stored offset; timestamp reads rows whose timestamp passed it
and is older than `now - timestamp.delay.interval.ms` (so transactions still in flight with an
earlier timestamp are not skipped); timestamp+incrementing uses both to break ties. The
result set of one query is drained across polls before the next query runs, as Confluent's
does, so rows sharing a timestamp are never split by a batch boundary.
"""

from __future__ import annotations

import datetime
import decimal
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, SourceRecord
from fjord.connect.data import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    Schema,
    SchemaBuilder,
    Struct,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)
from fjord.connectors.jdbc.dialect import ColumnDef, Dialect, column_schema, to_connect_value

BULK, INCREMENTING, TIMESTAMP, TIMESTAMP_INCREMENTING = (
    "bulk", "incrementing", "timestamp", "timestamp+incrementing")
INCREMENTING_FIELD = "incrementing"
TIMESTAMP_FIELD = "timestamp"
TIMESTAMP_NANOS_FIELD = "timestamp_nanos"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def timestamp_offset(value: datetime.datetime) -> dict[str, int]:
    """Confluent's offset shape: epoch millis plus the nanos of that second."""
    aware = _aware(value)
    micros = (aware - _EPOCH) // datetime.timedelta(microseconds=1)
    return {TIMESTAMP_FIELD: micros // 1000, TIMESTAMP_NANOS_FIELD: (micros % 1_000_000) * 1000}


def timestamp_from_offset(offset: Mapping[str, Any]) -> datetime.datetime | None:
    millis = offset.get(TIMESTAMP_FIELD)
    if millis is None:
        return None
    nanos = offset.get(TIMESTAMP_NANOS_FIELD)
    base = _EPOCH + datetime.timedelta(seconds=int(millis) // 1000)
    if nanos is None:
        return base + datetime.timedelta(milliseconds=int(millis) % 1000)
    return base + datetime.timedelta(microseconds=int(nanos) // 1000)


def _schema_of_value(value: Any) -> Schema:
    """For custom queries, whose columns have no catalog entry: the driver's Python type."""
    if isinstance(value, bool):
        return OPTIONAL_BOOLEAN_SCHEMA
    if isinstance(value, int):
        return OPTIONAL_INT64_SCHEMA
    if isinstance(value, float):
        return OPTIONAL_FLOAT64_SCHEMA
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        return decimal_schema(-exponent if isinstance(exponent, int) and exponent < 0 else 0, True)
    if isinstance(value, datetime.datetime):
        return timestamp_schema(True)
    if isinstance(value, datetime.date):
        return date_schema(True)
    if isinstance(value, datetime.time | datetime.timedelta):
        return time_schema(True)
    if isinstance(value, bytes | bytearray | memoryview):
        return OPTIONAL_BYTES_SCHEMA
    return OPTIONAL_STRING_SCHEMA


class TableQuerier:
    def __init__(self, dialect: Dialect, *, table: str | None, query: str | None, mode: str,
                 topic: str, incrementing_column: str, timestamp_columns: list[str],
                 numeric_mapping: str, validate_non_null: bool, delay_ms: int,
                 poll_interval_ms: int, query_suffix: str, timestamp_initial: int | None,
                 stored_offset: Mapping[str, Any] | None) -> None:
        self.dialect = dialect
        self.table, self.query, self.mode, self.topic = table, query, mode, topic
        self.incrementing_column = incrementing_column
        self.timestamp_columns = timestamp_columns
        self.numeric_mapping = numeric_mapping
        self.validate_non_null = validate_non_null
        self.delay = datetime.timedelta(milliseconds=delay_ms)
        self.poll_interval_s = poll_interval_ms / 1000.0
        self.query_suffix = query_suffix
        self.partition: dict[str, Any] = ({"protocol": "1", "table": table} if table
                                          else {"query": "query"})
        offset = dict(stored_offset or {})
        self.last_incrementing: int | None = offset.get(INCREMENTING_FIELD)
        self.last_timestamp = timestamp_from_offset(offset)
        if self.last_timestamp is None and timestamp_initial is not None and timestamp_initial >= 0:
            self.last_timestamp = _EPOCH + datetime.timedelta(milliseconds=timestamp_initial)
        self.next_query_at = 0.0
        self._rows: deque[tuple[Any, ...]] = deque()
        self._columns: list[str] = []
        self._schema: Schema | None = None
        self._column_defs: dict[str, ColumnDef] = {}

    # -- schema
    def _describe(self, conn: Any) -> None:
        if self.table is None:
            return
        defs = self.dialect.describe(conn, self.table)
        if not defs:
            raise ConnectException(f"Table {self.table} does not exist or has no columns")
        self._column_defs = {d.name: d for d in defs}
        if self.validate_non_null:
            wanted = ([self.incrementing_column] if self.mode in (INCREMENTING,
                                                                 TIMESTAMP_INCREMENTING) else [])
            wanted += self.timestamp_columns if self.mode in (TIMESTAMP, TIMESTAMP_INCREMENTING) else []
            for name in wanted:
                column = self._column_defs.get(name)
                if column is None:
                    raise ConnectException(f"Cannot find column {name} in table {self.table}")
                if column.nullable:
                    raise ConnectException(
                        f"Cannot make incremental queries using {self.mode} mode on table "
                        f"{self.table}: column {name} is nullable. Make it NOT NULL or set "
                        "validate.non.null=false")

    def _build_schema(self, columns: list[str], first_rows: list[tuple[Any, ...]]) -> Schema:
        builder = SchemaBuilder.struct().name(self.table.rsplit(".", 1)[-1] if self.table else None)
        for index, name in enumerate(columns):
            definition = self._column_defs.get(name)
            if definition is not None:
                schema = column_schema(definition, self.numeric_mapping)
            else:
                sample = next((row[index] for row in first_rows if row[index] is not None), None)
                schema = _schema_of_value(sample)
            builder.field(name, schema)
        return builder.build()

    # -- SQL
    def _sql(self, now: datetime.datetime | None) -> tuple[str, list[Any]]:
        d = self.dialect
        base = self.query if self.query else f"SELECT * FROM {d.table_ref(self.table or '')}"
        mark = d.placeholder
        params: list[Any] = []
        where = ""
        if self.mode == BULK:
            return base + (" " + self.query_suffix if self.query_suffix else ""), params
        ts_expr = ""
        if self.mode in (TIMESTAMP, TIMESTAMP_INCREMENTING):
            quoted = [d.quote(c) for c in self.timestamp_columns]
            ts_expr = quoted[0] if len(quoted) == 1 else f"COALESCE({', '.join(quoted)})"
        inc = d.quote(self.incrementing_column) if self.incrementing_column else ""
        start_ts = self.last_timestamp or _EPOCH
        if self.mode == INCREMENTING:
            where = f"{inc} > {mark}"
            params = [self.last_incrementing if self.last_incrementing is not None else -1]
            order = f"{inc} ASC"
        elif self.mode == TIMESTAMP:
            where = f"{ts_expr} > {mark} AND {ts_expr} < {mark}"
            params = [d.bind(start_ts), d.bind(now)]
            order = f"{ts_expr} ASC"
        else:
            where = (f"{ts_expr} < {mark} AND (({ts_expr} = {mark} AND {inc} > {mark}) OR "
                     f"{ts_expr} > {mark})")
            params = [d.bind(now), d.bind(start_ts),
                      self.last_incrementing if self.last_incrementing is not None else -1,
                      d.bind(start_ts)]
            order = f"{ts_expr} ASC, {inc} ASC"
        # A custom query is wrapped so our WHERE applies to its result, whatever its shape.
        source = base if not self.query else f"SELECT * FROM ({base}) fjord_q"
        sql = f"{source} WHERE {where} ORDER BY {order}"
        if self.query_suffix:
            sql += " " + self.query_suffix
        return sql, params

    # -- reading
    def due(self) -> bool:
        return bool(self._rows) or time.monotonic() >= self.next_query_at

    def _run_query(self, conn: Any) -> None:
        if self._schema is None and self.table is not None:
            self._describe(conn)
        now = None
        if self.mode in (TIMESTAMP, TIMESTAMP_INCREMENTING):
            now = self.dialect.current_timestamp(conn) - self.delay
        sql, params = self._sql(now)
        cur = conn.cursor()
        try:
            cur.execute(sql, params)
            columns = [c[0] for c in cur.description or []]
            rows = cur.fetchall()
        finally:
            cur.close()
        conn.commit()  # end the read transaction: no snapshot held open between polls
        if columns != self._columns or self._schema is None:
            if self._columns and self.table is not None:
                self._describe(conn)  # a column was added or dropped upstream
            self._columns = columns
            self._schema = self._build_schema(columns, list(rows[:100]))
        self._rows.extend(tuple(r) for r in rows)
        self.next_query_at = time.monotonic() + self.poll_interval_s

    def poll(self, conn: Any, max_rows: int) -> list[SourceRecord]:
        if not self._rows:
            self._run_query(conn)
        schema = self._schema
        records: list[SourceRecord] = []
        if schema is None:
            return records
        fields = [(f.name, f.schema) for f in schema.fields]
        while self._rows and len(records) < max_rows:
            row = self._rows.popleft()
            # to_connect_value already gives each column the type its schema carries, so the
            # struct is filled directly rather than through Struct.put's per-field validation
            struct = Struct(schema, {name: to_connect_value(field_schema, value)
                                     for (name, field_schema), value in zip(fields, row,
                                                                           strict=False)})
            records.append(SourceRecord.create(self.partition, self._advance(struct), self.topic,
                                               value_schema=schema, value=struct))
        return records

    def _advance(self, row: Struct) -> dict[str, Any] | None:
        """This row's offset, which is also where the next query starts."""
        if self.mode == BULK:
            return None
        offset: dict[str, Any] = {}
        if self.mode in (INCREMENTING, TIMESTAMP_INCREMENTING):
            value = row.get(self.incrementing_column)
            if value is None:
                raise ConnectException(f"Null value in incrementing column {self.incrementing_column}"
                                       f" of {self.table or 'query'}")
            self.last_incrementing = int(value)
            offset[INCREMENTING_FIELD] = self.last_incrementing
        if self.mode in (TIMESTAMP, TIMESTAMP_INCREMENTING):
            stamp = next((row.get(c) for c in self.timestamp_columns if row.get(c) is not None), None)
            if isinstance(stamp, datetime.datetime):
                self.last_timestamp = _aware(stamp)
                offset.update(timestamp_offset(stamp))
        return offset

    def reset(self) -> None:
        """After a lost connection: drop buffered rows; they are read again from the offset."""
        self._rows.clear()
        self.next_query_at = 0.0
