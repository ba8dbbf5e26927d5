"""The Connect data model: schemas and structs, as org.apache.kafka.connect.data has them.

Connectors describe records with these so converters (JSON with schemas, later Avro) and
transforms can work on typed data without knowing which connector produced it. Names,
types and the logical types (Decimal, Date, Time, Timestamp) follow Kafka so a JSON
envelope written by a Java worker reads back the same here.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class DataException(Exception):
    """Data that does not match its schema (Kafka's org.apache.kafka.connect.errors.DataException)."""


class SchemaType(StrEnum):
    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    @property
    def is_primitive(self) -> bool:
        return self not in (SchemaType.ARRAY, SchemaType.MAP, SchemaType.STRUCT)


_INT_RANGES = {
    SchemaType.INT8: (-(2**7), 2**7 - 1),
    SchemaType.INT16: (-(2**15), 2**15 - 1),
    SchemaType.INT32: (-(2**31), 2**31 - 1),
    SchemaType.INT64: (-(2**63), 2**63 - 1),
}


@dataclass(frozen=True)
class Field:
    name: str
    index: int
    schema: Schema


@dataclass(frozen=True, eq=False)
class Schema:
    """An immutable schema. Build one with SchemaBuilder or use the constants below."""

    type: SchemaType
    optional: bool = False
    default: Any = None
    name: str | None = None
    version: int | None = None
    doc: str | None = None
    parameters: Mapping[str, str] | None = None
    fields: tuple[Field, ...] = ()
    key_schema: Schema | None = None
    value_schema: Schema | None = None

    def field(self, name: str) -> Field | None:
        if self.type is not SchemaType.STRUCT:
            raise DataException("Cannot look up fields on non-struct type")
        for item in self.fields:
            if item.name == name:
                return item
        return None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return (self.type, self.optional, self.default, self.name, self.version, self.doc,
                dict(self.parameters or {}), [(f.name, f.schema) for f in self.fields],
                self.key_schema, self.value_schema) == (
                other.type, other.optional, other.default, other.name, other.version, other.doc,
                dict(other.parameters or {}), [(f.name, f.schema) for f in other.fields],
                other.key_schema, other.value_schema)

    def __hash__(self) -> int:
        return hash((self.type, self.optional, self.name, self.version, len(self.fields)))

    def __repr__(self) -> str:
        return f"Schema{{{self.name or ''}:{self.type.value.upper()}{'?' if self.optional else ''}}}"


class SchemaBuilder:
    """Fluent builder mirroring Kafka's SchemaBuilder (`SchemaBuilder.struct().field(...)`)."""

    def __init__(self, type_: SchemaType) -> None:
        self._type = type_
        self._optional = False
        self._default: Any = None
        self._name: str | None = None
        self._version: int | None = None
        self._doc: str | None = None
        self._parameters: dict[str, str] = {}
        self._fields: list[Field] = []
        self._key: Schema | None = None
        self._value: Schema | None = None

    @classmethod
    def type(cls, type_: SchemaType) -> SchemaBuilder:
        return cls(type_)

    @classmethod
    def struct(cls) -> SchemaBuilder:
        return cls(SchemaType.STRUCT)

    @classmethod
    def array(cls, value_schema: Schema) -> SchemaBuilder:
        builder = cls(SchemaType.ARRAY)
        builder._value = value_schema
        return builder

    @classmethod
    def map(cls, key_schema: Schema, value_schema: Schema) -> SchemaBuilder:
        builder = cls(SchemaType.MAP)
        builder._key, builder._value = key_schema, value_schema
        return builder

    @classmethod
    def string(cls) -> SchemaBuilder:
        return cls(SchemaType.STRING)

    @classmethod
    def int8(cls) -> SchemaBuilder:
        return cls(SchemaType.INT8)

    @classmethod
    def int16(cls) -> SchemaBuilder:
        return cls(SchemaType.INT16)

    @classmethod
    def int32(cls) -> SchemaBuilder:
        return cls(SchemaType.INT32)

    @classmethod
    def int64(cls) -> SchemaBuilder:
        return cls(SchemaType.INT64)

    @classmethod
    def float32(cls) -> SchemaBuilder:
        return cls(SchemaType.FLOAT32)

    @classmethod
    def float64(cls) -> SchemaBuilder:
        return cls(SchemaType.FLOAT64)

    @classmethod
    def boolean(cls) -> SchemaBuilder:
        return cls(SchemaType.BOOLEAN)

    @classmethod
    def bytes(cls) -> SchemaBuilder:
        return cls(SchemaType.BYTES)

    def optional(self) -> SchemaBuilder:
        self._optional = True
        return self

    def required(self) -> SchemaBuilder:
        self._optional = False
        return self

    def default_value(self, value: Any) -> SchemaBuilder:
        self._default = value
        return self

    def name(self, name: str | None) -> SchemaBuilder:
        self._name = name
        return self

    def version(self, version: int | None) -> SchemaBuilder:
        self._version = version
        return self

    def doc(self, doc: str | None) -> SchemaBuilder:
        self._doc = doc
        return self

    def parameter(self, key: str, value: str) -> SchemaBuilder:
        self._parameters[key] = value
        return self

    def parameters(self, params: Mapping[str, str]) -> SchemaBuilder:
        self._parameters.update(params)
        return self

    def field(self, name: str, schema: Schema | SchemaBuilder) -> SchemaBuilder:
        if self._type is not SchemaType.STRUCT:
            raise DataException("Cannot create fields on type " + self._type.value)
        if any(item.name == name for item in self._fields):
            raise DataException(f"Cannot create field because of field name duplication {name}")
        built = schema.build() if isinstance(schema, SchemaBuilder) else schema
        self._fields.append(Field(name, len(self._fields), built))
        return self

    def build(self) -> Schema:
        return Schema(self._type, self._optional, self._default, self._name, self._version,
                      self._doc, dict(self._parameters) or None, tuple(self._fields),
                      self._key, self._value)


def _primitive(type_: SchemaType, optional: bool) -> Schema:
    return Schema(type_, optional)


INT8_SCHEMA = _primitive(SchemaType.INT8, False)
INT16_SCHEMA = _primitive(SchemaType.INT16, False)
INT32_SCHEMA = _primitive(SchemaType.INT32, False)
INT64_SCHEMA = _primitive(SchemaType.INT64, False)
FLOAT32_SCHEMA = _primitive(SchemaType.FLOAT32, False)
FLOAT64_SCHEMA = _primitive(SchemaType.FLOAT64, False)
BOOLEAN_SCHEMA = _primitive(SchemaType.BOOLEAN, False)
STRING_SCHEMA = _primitive(SchemaType.STRING, False)
BYTES_SCHEMA = _primitive(SchemaType.BYTES, False)
OPTIONAL_INT8_SCHEMA = _primitive(SchemaType.INT8, True)
OPTIONAL_INT16_SCHEMA = _primitive(SchemaType.INT16, True)
OPTIONAL_INT32_SCHEMA = _primitive(SchemaType.INT32, True)
OPTIONAL_INT64_SCHEMA = _primitive(SchemaType.INT64, True)
OPTIONAL_FLOAT32_SCHEMA = _primitive(SchemaType.FLOAT32, True)
OPTIONAL_FLOAT64_SCHEMA = _primitive(SchemaType.FLOAT64, True)
OPTIONAL_BOOLEAN_SCHEMA = _primitive(SchemaType.BOOLEAN, True)
OPTIONAL_STRING_SCHEMA = _primitive(SchemaType.STRING, True)
OPTIONAL_BYTES_SCHEMA = _primitive(SchemaType.BYTES, True)

# Logical types: a primitive carrying a well-known name, as in org.apache.kafka.connect.data.
DECIMAL_LOGICAL_NAME = "org.apache.kafka.connect.data.Decimal"
DATE_LOGICAL_NAME = "org.apache.kafka.connect.data.Date"
TIME_LOGICAL_NAME = "org.apache.kafka.connect.data.Time"
TIMESTAMP_LOGICAL_NAME = "org.apache.kafka.connect.data.Timestamp"
DECIMAL_SCALE_PROP = "scale"


def decimal_schema(scale: int, optional: bool = False) -> Schema:
    builder = SchemaBuilder.bytes().name(DECIMAL_LOGICAL_NAME).version(1).parameter(
        DECIMAL_SCALE_PROP, str(scale))
    return (builder.optional() if optional else builder).build()


def date_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int32().name(DATE_LOGICAL_NAME).version(1)
    return (builder.optional() if optional else builder).build()


def time_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int32().name(TIME_LOGICAL_NAME).version(1)
    return (builder.optional() if optional else builder).build()


def timestamp_schema(optional: bool = False) -> Schema:
    builder = SchemaBuilder.int64().name(TIMESTAMP_LOGICAL_NAME).version(1)
    return (builder.optional() if optional else builder).build()


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def logical_to_connect(schema: Schema, value: Any) -> Any:
    """Python value of a logical type → its primitive wire form (Decimal → bytes, ...)."""
    if value is None or schema.name is None:
        return value
    if schema.name == DECIMAL_LOGICAL_NAME and isinstance(value, decimal.Decimal):
        scale = int((schema.parameters or {}).get(DECIMAL_SCALE_PROP, "0"))
        unscaled = int(value.scaleb(scale).to_integral_value())
        length = max(1, (unscaled.bit_length() + 8) // 8)
        return unscaled.to_bytes(length, "big", signed=True)
    if schema.name == TIMESTAMP_LOGICAL_NAME and isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return int((aware - _EPOCH) / datetime.timedelta(milliseconds=1))
    if schema.name == DATE_LOGICAL_NAME and isinstance(value, datetime.date):
        return (value - _EPOCH.date()).days
    if schema.name == TIME_LOGICAL_NAME and isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    return value


def logical_from_connect(schema: Schema, value: Any) -> Any:
    if value is None or schema.name is None:
        return value
    if schema.name == DECIMAL_LOGICAL_NAME and isinstance(value, bytes | bytearray):
        scale = int((schema.parameters or {}).get(DECIMAL_SCALE_PROP, "0"))
        return decimal.Decimal(int.from_bytes(value, "big", signed=True)).scaleb(-scale)
    if schema.name == TIMESTAMP_LOGICAL_NAME and isinstance(value, int):
        return _EPOCH + datetime.timedelta(milliseconds=value)
    if schema.name == DATE_LOGICAL_NAME and isinstance(value, int):
        return _EPOCH.date() + datetime.timedelta(days=value)
    if schema.name == TIME_LOGICAL_NAME and isinstance(value, int):
        return (datetime.datetime.min + datetime.timedelta(milliseconds=value)).time()
    return value


def validate_value(schema: Schema | None, value: Any, where: str = "value") -> None:
    """Raise DataException when `value` cannot be carried by `schema`."""
    if schema is None:
        return
    if value is None:
        if schema.optional or schema.default is not None:
            return
        raise DataException(f"Invalid value: null used for required field: \"{where}\", schema type: "
                            f"{schema.type.name}")
    kind = schema.type
    ok: bool
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        if not ok and schema.name in (DATE_LOGICAL_NAME, TIME_LOGICAL_NAME, TIMESTAMP_LOGICAL_NAME):
            ok = isinstance(value, datetime.date | datetime.time)
    elif kind in (SchemaType.FLOAT32, SchemaType.FLOAT64):
        ok = isinstance(value, float | int) and not isinstance(value, bool)
    elif kind is SchemaType.BOOLEAN:
        ok = isinstance(value, bool)
    elif kind is SchemaType.STRING:
        ok = isinstance(value, str)
    elif kind is SchemaType.BYTES:
        ok = isinstance(value, bytes | bytearray | memoryview) or (
            schema.name == DECIMAL_LOGICAL_NAME and isinstance(value, decimal.Decimal))
    elif kind is SchemaType.ARRAY:
        ok = isinstance(value, list | tuple)
        if ok:
            for item in value:
                validate_value(schema.value_schema, item, where)
    elif kind is SchemaType.MAP:
        ok = isinstance(value, Mapping)
        if ok:
            for key, item in value.items():
                validate_value(schema.key_schema, key, where)
                validate_value(schema.value_schema, item, where)
    else:
        ok = isinstance(value, Struct) and value.schema == schema
        if ok:
            value.validate()
    if not ok:
        raise DataException(f"Invalid Java object for schema with type {kind.name}: "
                            f"{type(value).__name__} for field: \"{where}\"")


@dataclass
class Struct:
    """A record value with a STRUCT schema; fields are addressed by name."""

    schema: Schema
    _values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.schema.type is not SchemaType.STRUCT:
            raise DataException("Not a struct schema: " + repr(self.schema))

    def _field(self, name: str) -> Field:
        found = self.schema.field(name)
        if found is None:
            raise DataException(f"{name} is not a valid field name")
        return found

    def put(self, name: str, value: Any) -> Struct:
        found = self._field(name)
        validate_value(found.schema, value, name)
        self._values[name] = value
        return self

    def get(self, name: str) -> Any:
        found = self._field(name)
        value = self._values.get(name)
        return found.schema.default if value is None else value

    def get_without_default(self, name: str) -> Any:
        self._field(name)
        return self._values.get(name)

    def validate(self) -> None:
        for item in self.schema.fields:
            validate_value(item.schema, self._values.get(item.name), item.name)

    def items(self) -> Iterator[tuple[str, Any]]:
        for item in self.schema.fields:
            yield item.name, self.get(item.name)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Struct):
            return NotImplemented
        return self.schema == other.schema and dict(self.items()) == dict(other.items())

    def __repr__(self) -> str:
        inner = ",".join(f"{key}={value!r}" for key, value in self.items())
        return f"Struct{{{inner}}}"
