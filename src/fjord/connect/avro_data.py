"""Connect schemas and values ↔ Avro schemas and data, the way Confluent's AvroData maps them.

Optional fields are `["null", T]` unions with a null default; INT8/INT16 are Avro ints marked
`"connect.type"`; Decimal/Date/Time/Timestamp are Avro's logical types (decimal bytes,
date, time-millis, timestamp-millis) carrying `connect.name`/`connect.version` as
Confluent writes them, so consumers using Confluent's deserializers, and Java workers
running Confluent's AvroConverter, read records Fjord wrote and the other way round.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Mapping
from typing import Any

from fjord.connect.data import (
    DATE_LOGICAL_NAME,
    DECIMAL_LOGICAL_NAME,
    DECIMAL_SCALE_PROP,
    TIME_LOGICAL_NAME,
    TIMESTAMP_LOGICAL_NAME,
    DataException,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    date_schema,
    decimal_schema,
    logical_from_connect,
    time_schema,
    timestamp_schema,
)

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_NAME = "ConnectDefault"
_PRIMITIVE = {SchemaType.INT32: "int", SchemaType.INT64: "long", SchemaType.FLOAT32: "float",
              SchemaType.FLOAT64: "double", SchemaType.BOOLEAN: "boolean",
              SchemaType.STRING: "string", SchemaType.BYTES: "bytes"}
_INVALID = re.compile(r"[^A-Za-z0-9_]")


def _avro_name(name: str) -> str:
    parts = [(_INVALID.sub("_", p) or "_") for p in name.split(".")]
    return ".".join(p if not p[0].isdigit() else "_" + p for p in parts)


class ToAvro:
    """One Connect schema → one Avro schema; record names defined once, referenced after."""

    def __init__(self) -> None:
        self._defined: dict[str, Schema] = {}
        self._defaults = 0

    def schema(self, schema: Schema) -> Any:
        base = self._non_null(schema)
        if schema.optional:
            return ["null", base]
        return base

    def _connect_props(self, schema: Schema, node: dict[str, Any]) -> dict[str, Any]:
        if schema.version is not None:
            node["connect.version"] = schema.version
        if schema.doc:
            node["connect.doc"] = schema.doc
        if schema.parameters:
            node["connect.parameters"] = dict(schema.parameters)
        if schema.name:
            node["connect.name"] = schema.name
        return node

    def _non_null(self, schema: Schema) -> Any:
        name = schema.name
        if name == DECIMAL_LOGICAL_NAME:
            scale = int((schema.parameters or {}).get(DECIMAL_SCALE_PROP, "0"))
            precision = int((schema.parameters or {}).get("connect.decimal.precision", "64"))
            return self._connect_props(schema, {"type": "bytes", "scale": scale,
                                                "precision": precision, "logicalType": "decimal"})
        if name == DATE_LOGICAL_NAME:
            return self._connect_props(schema, {"type": "int", "logicalType": "date"})
        if name == TIME_LOGICAL_NAME:
            return self._connect_props(schema, {"type": "int", "logicalType": "time-millis"})
        if name == TIMESTAMP_LOGICAL_NAME:
            return self._connect_props(schema, {"type": "long", "logicalType": "timestamp-millis"})
        kind = schema.type
        if kind in (SchemaType.INT8, SchemaType.INT16):
            return self._connect_props(schema, {"type": "int", "connect.type": kind.value})
        if kind in _PRIMITIVE:
            if name or schema.version or schema.doc or schema.parameters:
                return self._connect_props(schema, {"type": _PRIMITIVE[kind]})
            return _PRIMITIVE[kind]
        if kind is SchemaType.ARRAY:
            assert schema.value_schema is not None
            return {"type": "array", "items": self.schema(schema.value_schema)}
        if kind is SchemaType.MAP:
            assert schema.key_schema is not None and schema.value_schema is not None
            if schema.key_schema.type is SchemaType.STRING and not schema.key_schema.optional:
                return {"type": "map", "values": self.schema(schema.value_schema)}
            return {"type": "array", "items": self._record(
                SchemaBuilder.struct().name(f"{NAMESPACE}.MapEntry")
                .field("key", schema.key_schema).field("value", schema.value_schema).build())}
        return self._record(schema)

    def _record(self, schema: Schema) -> Any:
        if schema.name:
            full = _avro_name(schema.name)
        else:
            self._defaults += 1
            full = f"{NAMESPACE}.{DEFAULT_NAME}" + (str(self._defaults) if self._defaults > 1 else "")
        known = self._defined.get(full)
        if known is not None:
            if known == schema:
                return full
            index = 2
            while f"{full}{index}" in self._defined:
                index += 1
            full = f"{full}{index}"
        self._defined[full] = schema
        namespace, _, short = full.rpartition(".")
        node: dict[str, Any] = {"type": "record", "name": short}
        if namespace:
            node["namespace"] = namespace
        if schema.doc:
            node["doc"] = schema.doc
        fields = []
        for item in schema.fields:
            field: dict[str, Any] = {"name": item.name, "type": self.schema(item.schema)}
            if item.schema.optional:
                field["default"] = None
            elif item.schema.default is not None:
                field["default"] = _json_default(item.schema, item.schema.default)
            fields.append(field)
        node["fields"] = fields
        if schema.version is not None:
            node["connect.version"] = schema.version
        if schema.parameters:
            node["connect.parameters"] = dict(schema.parameters)
        if schema.name and _avro_name(schema.name) != schema.name:
            node["connect.name"] = schema.name
        return node


def _json_default(schema: Schema, value: Any) -> Any:
    value = logical_from_connect(schema, value) if schema.name else value
    if isinstance(value, bytes):
        return value.decode("latin-1")  # Avro's JSON encoding of bytes defaults
    if isinstance(value, decimal.Decimal | datetime.date | datetime.time):
        return None
    return value


def to_avro_schema(schema: Schema) -> Any:
    return ToAvro().schema(schema)


def to_avro_value(schema: Schema | None, value: Any) -> Any:
    """A Connect value → the datum fastavro writes for to_avro_schema(schema)."""
    if value is None or schema is None:
        return value
    if schema.name in (DECIMAL_LOGICAL_NAME, DATE_LOGICAL_NAME, TIME_LOGICAL_NAME,
                       TIMESTAMP_LOGICAL_NAME):
        value = logical_from_connect(schema, value)
        if schema.name == DECIMAL_LOGICAL_NAME and isinstance(value, int | float | str):
            value = decimal.Decimal(str(value))
        return value
    kind = schema.type
    if kind is SchemaType.STRUCT:
        if not isinstance(value, Struct):
            raise DataException(f"Expected a Struct for schema {schema!r}, got {type(value).__name__}")
        return {f.name: to_avro_value(f.schema, value.get(f.name)) for f in schema.fields}
    if kind is SchemaType.ARRAY:
        return [to_avro_value(schema.value_schema, v) for v in value]
    if kind is SchemaType.MAP:
        key_schema = schema.key_schema
        if key_schema is not None and key_schema.type is SchemaType.STRING and \
                not key_schema.optional:
            return {k: to_avro_value(schema.value_schema, v) for k, v in value.items()}
        return [{"key": to_avro_value(key_schema, k), "value": to_avro_value(schema.value_schema, v)}
                for k, v in value.items()]
    if kind is SchemaType.BYTES and isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


class FromAvro:
    """An Avro schema (JSON) → a Connect schema, following named-type references."""

    def __init__(self) -> None:
        self._named: dict[str, Any] = {}
        self._built: dict[str, Schema] = {}

    def schema(self, node: Any, optional: bool = False, namespace: str = "") -> Schema:
        if isinstance(node, list):
            branches = [b for b in node if b != "null"]
            if len(branches) == 1 and len(node) == 2:
                return self.schema(branches[0], True, namespace)
            raise DataException("Avro unions of several non-null types are not supported")
        if isinstance(node, str):
            if node in self._built:
                built = self._built[node]
                return _with_optional(built, optional)
            return self._primitive(node, {}, optional)
        kind = node.get("type")
        if isinstance(kind, dict | list):
            return self.schema(kind, optional, namespace)
        logical = node.get("logicalType")
        connect_type = node.get("connect.type")
        if kind == "record":
            return self._struct(node, optional, namespace)
        if kind == "enum":
            return _build(SchemaBuilder.string(), optional, node)
        if kind == "fixed":
            if logical == "decimal":
                return decimal_schema(int(node.get("scale", 0)), optional)
            return _build(SchemaBuilder.bytes(), optional, node)
        if kind == "array":
            items = node["items"]
            if isinstance(items, dict) and items.get("type") == "record" and \
                    str(items.get("name")).endswith("MapEntry") and \
                    [f["name"] for f in items.get("fields", [])] == ["key", "value"]:
                fields = {f["name"]: f["type"] for f in items["fields"]}
                return _build(SchemaBuilder.map(self.schema(fields["key"]),
                                                self.schema(fields["value"])), optional, node)
            return _build(SchemaBuilder.array(self.schema(items, namespace=namespace)), optional, node)
        if kind == "map":
            from fjord.connect.data import STRING_SCHEMA
            return _build(SchemaBuilder.map(STRING_SCHEMA, self.schema(node["values"])),
                          optional, node)
        if logical == "decimal" and kind == "bytes":
            return decimal_schema(int(node.get("scale", 0)), optional)
        if logical == "date" and kind == "int":
            return date_schema(optional)
        if logical in ("time-millis", "time-micros"):
            return time_schema(optional)
        if logical in ("timestamp-millis", "timestamp-micros", "local-timestamp-millis"):
            return timestamp_schema(optional)
        if kind == "int" and connect_type in ("int8", "int16"):
            return _build(SchemaBuilder.type(SchemaType(connect_type)), optional, node)
        return self._primitive(str(kind), node, optional)

    def _primitive(self, kind: str, node: Mapping[str, Any], optional: bool) -> Schema:
        mapping = {"int": SchemaType.INT32, "long": SchemaType.INT64, "float": SchemaType.FLOAT32,
                   "double": SchemaType.FLOAT64, "boolean": SchemaType.BOOLEAN,
                   "string": SchemaType.STRING, "bytes": SchemaType.BYTES}
        if kind not in mapping:
            raise DataException(f"Unsupported Avro type {kind}")
        return _build(SchemaBuilder.type(mapping[kind]), optional, node)

    def _struct(self, node: Mapping[str, Any], optional: bool, namespace: str) -> Schema:
        name = str(node["name"])
        ns = node.get("namespace", namespace) or ""
        full = name if "." in name or not ns else f"{ns}.{name}"
        builder = SchemaBuilder.struct().name(str(node.get("connect.name") or full))
        if node.get("connect.version") is not None:
            builder.version(int(node["connect.version"]))
        if node.get("doc"):
            builder.doc(str(node["doc"]))
        inner_ns = full.rpartition(".")[0]
        for field in node.get("fields", []):
            child = self.schema(field["type"], namespace=inner_ns)
            builder.field(field["name"], child)
        built = builder.optional().build() if optional else builder.build()
        self._built[full] = builder.required().build()
        self._built.setdefault(name, self._built[full])
        return built


def _with_optional(schema: Schema, optional: bool) -> Schema:
    if not optional or schema.optional:
        return schema
    return Schema(schema.type, True, schema.default, schema.name, schema.version, schema.doc,
                  schema.parameters, schema.fields, schema.key_schema, schema.value_schema)


def _build(builder: SchemaBuilder, optional: bool, node: Mapping[str, Any]) -> Schema:
    if node.get("connect.name"):
        builder.name(str(node["connect.name"]))
    if node.get("connect.version") is not None:
        builder.version(int(node["connect.version"]))
    if node.get("connect.doc"):
        builder.doc(str(node["connect.doc"]))
    if node.get("connect.parameters"):
        builder.parameters({str(k): str(v) for k, v in node["connect.parameters"].items()})
    if optional:
        builder.optional()
    return builder.build()


def from_avro_schema(node: Any) -> Schema:
    return FromAvro().schema(node)


def from_avro_value(schema: Schema, datum: Any) -> Any:
    if datum is None:
        return None
    kind = schema.type
    if schema.name == TIMESTAMP_LOGICAL_NAME and isinstance(datum, int):
        return logical_from_connect(schema, datum)
    if schema.name == DATE_LOGICAL_NAME and isinstance(datum, int):
        return logical_from_connect(schema, datum)
    if schema.name == TIME_LOGICAL_NAME and isinstance(datum, int):
        return logical_from_connect(schema, datum)
    if kind is SchemaType.STRUCT:
        struct = Struct(schema)
        for field in schema.fields:
            struct.put(field.name, from_avro_value(field.schema, datum.get(field.name)))
        return struct
    if kind is SchemaType.ARRAY:
        return [from_avro_value(schema.value_schema, v) for v in datum]  # type: ignore[arg-type]
    if kind is SchemaType.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if isinstance(datum, list):
            return {from_avro_value(schema.key_schema, e["key"]):
                    from_avro_value(schema.value_schema, e["value"]) for e in datum}
        return {k: from_avro_value(schema.value_schema, v) for k, v in datum.items()}
    return datum
