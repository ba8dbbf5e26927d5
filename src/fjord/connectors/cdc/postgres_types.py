"""PostgreSQL column types → Debezium's Connect schemas, and their text form → values.

Change values arrive as the type's text output (pgoutput protocol 1), and the snapshot reads
`column::text`, so one parser serves both and a row reads the same whether it came from the
snapshot or the stream. Mapping follows Debezium's defaults: `time.precision.mode=adaptive`
(io.debezium.time.Date / MicroTime / MicroTimestamp / ZonedTimestamp) or `connect` (Kafka's
logical types), `decimal.handling.mode=precise` (Decimal; VariableScaleDecimal for an
unbounded numeric), `double` or `string`.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from typing import Any

from fjord.connect.data import (
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    date_schema,
    decimal_schema,
    time_schema,
    timestamp_schema,
)

BOOL, BYTEA, INT8, INT2, INT4, TEXT, OID = 16, 17, 20, 21, 23, 25, 26
FLOAT4, FLOAT8, BPCHAR, VARCHAR, DATE, TIME, TIMESTAMP, TIMESTAMPTZ = (
    700, 701, 1042, 1043, 1082, 1083, 1114, 1184)
TIMETZ, NUMERIC, UUID, JSON, JSONB = 1266, 1700, 2950, 114, 3802
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_EPOCH_DATE = datetime.date(1970, 1, 1)



def variable_scale_decimal(optional: bool) -> Schema:
    builder = (SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal").version(1)
               .doc("Variable scaled decimal").field("scale", SchemaBuilder.int32().build())
               .field("value", SchemaBuilder.bytes().build()))
    return (builder.optional() if optional else builder).build()


def _named(builder: SchemaBuilder, name: str, optional: bool) -> Schema:
    builder.name(name).version(1)
    return (builder.optional() if optional else builder).build()


def numeric_scale(type_modifier: int) -> tuple[int, int] | None:
    """(precision, scale) of numeric(p, s); None when unbounded."""
    if type_modifier < 4:
        return None
    value = type_modifier - 4
    return (value >> 16) & 0xFFFF, value & 0xFFFF


class TypeMapper:
    def __init__(self, time_precision_mode: str = "adaptive",
                 decimal_handling_mode: str = "precise") -> None:
        self.time_mode = time_precision_mode
        self.decimal_mode = decimal_handling_mode

    def schema(self, oid: int, type_modifier: int, optional: bool) -> Schema:
        def simple(kind: SchemaType) -> Schema:
            builder = SchemaBuilder.type(kind)
            return (builder.optional() if optional else builder).build()

        if oid == BOOL:
            return simple(SchemaType.BOOLEAN)
        if oid == INT2:
            return simple(SchemaType.INT16)
        if oid in (INT4, OID):
            return simple(SchemaType.INT32 if oid == INT4 else SchemaType.INT64)
        if oid == INT8:
            return simple(SchemaType.INT64)
        if oid == FLOAT4:
            return simple(SchemaType.FLOAT32)
        if oid == FLOAT8:
            return simple(SchemaType.FLOAT64)
        if oid == BYTEA:
            return simple(SchemaType.BYTES)
        if oid == NUMERIC:
            if self.decimal_mode == "double":
                return simple(SchemaType.FLOAT64)
            if self.decimal_mode == "string":
                return simple(SchemaType.STRING)
            bounds = numeric_scale(type_modifier)
            if bounds is None:
                return variable_scale_decimal(optional)
            schema = decimal_schema(bounds[1], optional)
            params = {**(schema.parameters or {}), "connect.decimal.precision": str(bounds[0])}
            return Schema(schema.type, schema.optional, None, schema.name, schema.version, None,
                          params)
        connect = self.time_mode == "connect"
        if oid == DATE:
            return date_schema(optional) if connect else _named(SchemaBuilder.int32(),
                                                                 "io.debezium.time.Date", optional)
        if oid == TIME:
            return time_schema(optional) if connect else _named(SchemaBuilder.int64(),
                                                                 "io.debezium.time.MicroTime",
                                                                 optional)
        if oid == TIMESTAMP:
            return timestamp_schema(optional) if connect else _named(
                SchemaBuilder.int64(), "io.debezium.time.MicroTimestamp", optional)
        if oid == TIMESTAMPTZ:
            return _named(SchemaBuilder.string(), "io.debezium.time.ZonedTimestamp", optional)
        if oid == TIMETZ:
            return _named(SchemaBuilder.string(), "io.debezium.time.ZonedTime", optional)
        if oid == UUID:
            return _named(SchemaBuilder.string(), "io.debezium.data.Uuid", optional)
        if oid in (JSON, JSONB):
            return _named(SchemaBuilder.string(), "io.debezium.data.Json", optional)
        return simple(SchemaType.STRING)

    def parser(self, oid: int, schema: Schema) -> Callable[[str], Any]:
        """text output of the type → the value `schema` carries."""
        if oid == BOOL:
            return lambda text: text in ("t", "true")  # output function vs ::text cast
        if oid in (INT2, INT4, INT8, OID):
            return int
        if oid in (FLOAT4, FLOAT8):
            return float
        if oid == BYTEA:
            return lambda text: bytes.fromhex(text[2:]) if text.startswith("\\x") else text.encode()
        if oid == NUMERIC:
            if schema.type is SchemaType.FLOAT64:
                return float
            if schema.type is SchemaType.STRING:
                return str
            if schema.type is SchemaType.STRUCT:
                return lambda text: _variable_decimal(schema, text)
            return decimal.Decimal
        connect = self.time_mode == "connect"
        if oid == DATE:
            return (datetime.date.fromisoformat if connect
                    else lambda text: (datetime.date.fromisoformat(text) - _EPOCH_DATE).days)
        if oid == TIME:
            if connect:
                return datetime.time.fromisoformat
            return lambda text: _micros_of_day(datetime.time.fromisoformat(text))
        if oid == TIMESTAMP:
            if connect:
                return lambda text: _utc(datetime.datetime.fromisoformat(text))
            return lambda text: (_utc(datetime.datetime.fromisoformat(text)) - _EPOCH) // \
                datetime.timedelta(microseconds=1)
        if oid == TIMESTAMPTZ:
            return lambda text: _zoned(text)
        return str


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def _micros_of_day(value: datetime.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _zoned(text: str) -> str:
    """`2024-01-02 03:04:05.123+00` → Debezium's ISO-8601 UTC form `2024-01-02T03:04:05.123Z`."""
    fixed = text
    if len(fixed) >= 3 and fixed[-3] in "+-" and fixed[-2:].isdigit():
        fixed += ":00"
    value = datetime.datetime.fromisoformat(fixed).astimezone(datetime.UTC)
    rendered = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        rendered += f".{value.microsecond:06d}".rstrip("0")
    return rendered + "Z"


def _variable_decimal(schema: Schema, text: str) -> Struct:
    number = decimal.Decimal(text)
    exponent = number.as_tuple().exponent
    scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    unscaled = int(number.scaleb(scale))
    length = max(1, (unscaled.bit_length() + 8) // 8)
    struct = Struct(schema)
    struct.put("scale", scale)
    struct.put("value", unscaled.to_bytes(length, "big", signed=True))
    return struct
