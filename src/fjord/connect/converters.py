"""Converters between Connect data (schema + value) and the bytes stored in Kafka.

Kafka's class names are accepted as aliases so a worker.properties written for Apache Kafka
(`key.converter=org.apache.kafka.connect.json.JsonConverter`) works unchanged, and the JSON
envelope is Kafka's, so topics written by either runtime read back in the other.
"""

from __future__ import annotations

import base64
import decimal
import json
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import Converter, HeaderConverter
from fjord.connect.data import (
    DECIMAL_LOGICAL_NAME,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    DataException,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    logical_from_connect,
    logical_to_connect,
)


class StringConverter(Converter):
    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        super().configure(configs, is_key)
        self.encoding = str(configs.get("converter.encoding", "utf-8"))

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        return str(value).encode(getattr(self, "encoding", "utf-8"))

    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, Any]:
        if value is None:
            return OPTIONAL_STRING_SCHEMA, None
        return OPTIONAL_STRING_SCHEMA, value.decode(getattr(self, "encoding", "utf-8"))


class ByteArrayConverter(Converter):
    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if schema is not None and schema.type is not SchemaType.BYTES:
            raise DataException(f"Invalid schema type for ByteArrayConverter: {schema.type.name}")
        if value is None:
            return None
        if isinstance(value, str):
            raise DataException("ByteArrayConverter is not compatible with objects of type str")
        return bytes(value)

    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, Any]:
        return OPTIONAL_BYTES_SCHEMA, value


# ------------------------------------------------------------------ JSON


# Kafka's JsonSchema names the floating types "float" and "double", not after Connect's enum.
_JSON_TYPE_NAMES = {SchemaType.FLOAT32: "float", SchemaType.FLOAT64: "double"}
_JSON_TYPES = {**{t.value: t for t in SchemaType}, "float": SchemaType.FLOAT32,
               "double": SchemaType.FLOAT64}


def schema_to_json(schema: Schema) -> dict[str, Any]:
    out: dict[str, Any] = {"type": _JSON_TYPE_NAMES.get(schema.type, schema.type.value)}
    if schema.type is SchemaType.STRUCT:
        out["fields"] = [dict(schema_to_json(f.schema), field=f.name) for f in schema.fields]
    elif schema.type is SchemaType.ARRAY and schema.value_schema is not None:
        out["items"] = schema_to_json(schema.value_schema)
    elif schema.type is SchemaType.MAP and schema.key_schema and schema.value_schema:
        out["keys"] = schema_to_json(schema.key_schema)
        out["values"] = schema_to_json(schema.value_schema)
    out["optional"] = schema.optional
    if schema.name is not None:
        out["name"] = schema.name
    if schema.version is not None:
        out["version"] = schema.version
    if schema.doc is not None:
        out["doc"] = schema.doc
    if schema.parameters:
        out["parameters"] = dict(schema.parameters)
    if schema.default is not None:
        out["default"] = value_to_json(schema, schema.default)
    return out


def schema_from_json(node: Mapping[str, Any]) -> Schema:
    try:
        kind = _JSON_TYPES[node["type"]]
    except (KeyError, TypeError) as exc:
        raise DataException(f"Unknown schema type: {node.get('type')}") from exc
    if kind is SchemaType.STRUCT:
        builder = SchemaBuilder.struct()
        for item in node.get("fields") or []:
            if "field" not in item:
                raise DataException("Struct schema's field name not specified properly")
            builder.field(item["field"], schema_from_json(item))
    elif kind is SchemaType.ARRAY:
        if "items" not in node:
            raise DataException("Array schema did not specify the element type")
        builder = SchemaBuilder.array(schema_from_json(node["items"]))
    elif kind is SchemaType.MAP:
        builder = SchemaBuilder.map(schema_from_json(node["keys"]), schema_from_json(node["values"]))
    else:
        builder = SchemaBuilder(kind)
    if node.get("optional"):
        builder.optional()
    builder.name(node.get("name")).version(node.get("version")).doc(node.get("doc"))
    if node.get("parameters"):
        builder.parameters({str(k): str(v) for k, v in node["parameters"].items()})
    schema = builder.build()
    if node.get("default") is not None:
        builder.default_value(value_from_json(schema, node["default"]))
        schema = builder.build()
    return schema


def value_to_json(schema: Schema | None, value: Any) -> Any:
    if value is None:
        return None
    if schema is None:
        return _schemaless_to_json(value)
    value = logical_to_connect(schema, value)
    kind = schema.type
    if kind is SchemaType.BYTES:
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind is SchemaType.ARRAY:
        return [value_to_json(schema.value_schema, item) for item in value]
    if kind is SchemaType.MAP:
        key_schema = schema.key_schema
        if key_schema is not None and key_schema.type is SchemaType.STRING:
            return {k: value_to_json(schema.value_schema, v) for k, v in value.items()}
        return [[value_to_json(key_schema, k), value_to_json(schema.value_schema, v)]
                for k, v in value.items()]
    if kind is SchemaType.STRUCT:
        if not isinstance(value, Struct):
            raise DataException("Struct schema with a non-Struct value")
        return {f.name: value_to_json(f.schema, value.get(f.name)) for f in schema.fields}
    return value


def _schemaless_to_json(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Struct):
        return value_to_json(value.schema, value)
    if isinstance(value, Mapping):
        return {str(k): _schemaless_to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_schemaless_to_json(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


def value_from_json(schema: Schema | None, node: Any) -> Any:
    if node is None:
        if schema is not None and schema.default is not None:
            return schema.default
        if schema is not None and not schema.optional:
            raise DataException("Invalid null value for required field")
        return None
    if schema is None:
        return node
    kind = schema.type
    try:
        if kind is SchemaType.BYTES:
            raw: Any = base64.b64decode(node) if isinstance(node, str) else node
            if schema.name == DECIMAL_LOGICAL_NAME and isinstance(node, int | float):
                return decimal.Decimal(str(node))
            return logical_from_connect(schema, raw)
        if kind in (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64):
            if not isinstance(node, int) or isinstance(node, bool):
                raise DataException(f"Invalid type for {kind.name}: {type(node).__name__}")
            return logical_from_connect(schema, node)
        if kind in (SchemaType.FLOAT32, SchemaType.FLOAT64):
            return float(node)
        if kind is SchemaType.BOOLEAN:
            if not isinstance(node, bool):
                raise DataException(f"Invalid type for BOOLEAN: {type(node).__name__}")
            return node
        if kind is SchemaType.STRING:
            if not isinstance(node, str):
                raise DataException(f"Invalid type for STRING: {type(node).__name__}")
            return node
        if kind is SchemaType.ARRAY:
            return [value_from_json(schema.value_schema, item) for item in node]
        if kind is SchemaType.MAP:
            if isinstance(node, dict):
                return {k: value_from_json(schema.value_schema, v) for k, v in node.items()}
            return {value_from_json(schema.key_schema, k): value_from_json(schema.value_schema, v)
                    for k, v in node}
        struct = Struct(schema)
        for item in schema.fields:
            struct.put(item.name, value_from_json(item.schema, node.get(item.name)))
        return struct
    except (TypeError, AttributeError, ValueError) as exc:
        raise DataException(f"Invalid JSON for schema type {kind.name}: {exc}") from exc


class JsonConverter(Converter):
    """Kafka's JsonConverter: `{"schema": ..., "payload": ...}` when schemas.enable=true."""

    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        super().configure(configs, is_key)
        self.schemas_enable = str(configs.get("schemas.enable", "true")).lower() == "true"

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if schema is None and value is None:
            return None
        if getattr(self, "schemas_enable", True):
            doc: Any = {"schema": self._schema_json(schema) if schema is not None else None,
                        "payload": value_to_json(schema, value)}
        else:
            doc = value_to_json(schema, value)
        return json.dumps(doc, separators=(",", ":")).encode("utf-8")

    def _schema_json(self, schema: Schema) -> Any:
        """schema_to_json, remembered per schema object: sources reuse one schema for many
        records, and rendering it again for each was a sixth of the converter's time."""
        cache: dict[int, tuple[Schema, Any]] = self.__dict__.setdefault("_schema_cache", {})
        found = cache.get(id(schema))
        if found is None or found[0] is not schema:
            if len(cache) > 1000:
                cache.clear()
            found = cache[id(schema)] = (schema, schema_to_json(schema))
        return found[1]

    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, Any]:
        if value is None:
            return None, None
        try:
            doc = json.loads(value)
        except ValueError as exc:
            raise DataException("Converting byte[] to Kafka Connect data failed due to serialization "
                                f"error: {exc}") from exc
        if not getattr(self, "schemas_enable", True):
            return None, doc
        if not isinstance(doc, dict) or set(doc) != {"schema", "payload"}:
            raise DataException(
                "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and "
                "may not contain additional fields. If you are trying to deserialize plain JSON "
                "data, set schemas.enable=false in your converter configuration.")
        if doc["schema"] is None:
            return None, doc["payload"]
        # One topic carries few distinct schemas: parse each once (it was half a sink's time).
        key = json.dumps(doc["schema"], separators=(",", ":"))
        cache: dict[str, Schema] = self.__dict__.setdefault("_parsed_schemas", {})
        schema = cache.get(key)
        if schema is None:
            if len(cache) > 1000:
                cache.clear()
            schema = cache[key] = schema_from_json(doc["schema"])
        return schema, value_from_json(schema, doc["payload"])


class SimpleHeaderConverter(HeaderConverter):
    """Kafka's default header converter: strings as UTF-8, other values as their JSON text."""

    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any
                            ) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray):
            return bytes(value)
        if isinstance(value, str):
            return value.encode("utf-8")
        return json.dumps(value_to_json(schema, value)).encode("utf-8")

    def to_connect_header(self, topic: str, key: str, value: bytes | None
                          ) -> tuple[Schema | None, Any]:
        if value is None:
            return None, None
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            return OPTIONAL_BYTES_SCHEMA, value
        try:
            parsed = json.loads(text)
        except ValueError:
            return OPTIONAL_STRING_SCHEMA, text
        if isinstance(parsed, bool):
            return OPTIONAL_BOOLEAN_SCHEMA, parsed
        if isinstance(parsed, int):
            return OPTIONAL_INT64_SCHEMA, parsed
        if isinstance(parsed, float):
            return OPTIONAL_FLOAT64_SCHEMA, parsed
        return OPTIONAL_STRING_SCHEMA, text


class StringHeaderConverter(HeaderConverter):
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any
                            ) -> bytes | None:
        return StringConverter().from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, key: str, value: bytes | None
                          ) -> tuple[Schema | None, Any]:
        return OPTIONAL_STRING_SCHEMA, None if value is None else value.decode("utf-8", "replace")


CONVERTERS: dict[str, type[Converter]] = {
    "org.apache.kafka.connect.storage.StringConverter": StringConverter,
    "org.apache.kafka.connect.converters.ByteArrayConverter": ByteArrayConverter,
    "org.apache.kafka.connect.json.JsonConverter": JsonConverter,
}
HEADER_CONVERTERS: dict[str, type[HeaderConverter]] = {
    "org.apache.kafka.connect.storage.SimpleHeaderConverter": SimpleHeaderConverter,
    "org.apache.kafka.connect.storage.StringConverter": StringHeaderConverter,
}


# Converters in modules that import this one: fjord.connect.plugins loads them on first use.
LAZY_CONVERTERS = {
    "io.confluent.connect.avro.AvroConverter": "fjord.connect.avro_converter:AvroConverter",
}
