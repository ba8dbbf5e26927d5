"""Kafka's built-in single message transforms and predicates, under Kafka's class names.

Each transform works on schemaless values (dicts) and on Structs with schemas, like Kafka's.
Key/Value variants are the `$Key` / `$Value` nested classes in Kafka; here they are
subclasses registered under those same names.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from fjord.connect.api import ConnectException, ConnectRecord, SinkRecord
from fjord.connect.data import (
    BOOLEAN_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_LOGICAL_NAME,
    DataException,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    date_schema,
    time_schema,
    timestamp_schema,
)
from fjord.connect.plugins import load_object
from fjord.connect.transform_chain import Predicate, Transformation

R = TypeVar("R", bound=ConnectRecord)
PKG = "org.apache.kafka.connect.transforms."


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _require(configs: Mapping[str, Any], key: str) -> str:
    value = configs.get(key)
    if value is None or str(value) == "":
        raise ConnectException(f'Missing required configuration "{key}" which has no default value.')
    return str(value)


def _copy_schema(schema: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    builder.name(schema.name).version(schema.version).doc(schema.doc)
    if schema.parameters:
        builder.parameters(schema.parameters)
    if schema.optional:
        builder.optional()
    return builder


class _KeyOrValue(Transformation):
    """Shared plumbing: operate on the key (`$Key`) or the value (`$Value`)."""

    is_key = False

    def operating(self, record: ConnectRecord) -> tuple[Schema | None, Any]:
        return (record.key_schema, record.key) if self.is_key else (record.value_schema, record.value)

    def new(self, record: R, schema: Schema | None, value: Any) -> R:
        if self.is_key:
            return record.new_record(record.topic, record.kafka_partition, schema, value,
                                     record.value_schema, record.value, record.timestamp)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 schema, value, record.timestamp)

    def apply(self, record: R) -> R | None:
        schema, value = self.operating(record)
        if value is None:
            return record
        if schema is None:
            if not isinstance(value, Mapping) and self.needs_map:
                raise DataException(f"Only Map objects supported in absence of schema for "
                                    f"[{self.purpose}], found: {type(value).__name__}")
            new_schema, new_value = None, self.schemaless(record, value)
        else:
            if schema.type is not SchemaType.STRUCT and self.needs_map:
                raise DataException(f"Only Struct objects supported for [{self.purpose}], found: "
                                    f"{schema.type.name}")
            new_schema, new_value = self.with_schema(record, schema, value)
        return self.new(record, new_schema, new_value)

    needs_map = True
    purpose = "transform"

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        raise NotImplementedError

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        raise NotImplementedError


# ---------------------------------------------------------------- Cast

_CAST_SCHEMAS = {"int8": INT8_SCHEMA, "int16": INT16_SCHEMA, "int32": INT32_SCHEMA,
                 "int64": INT64_SCHEMA, "float32": FLOAT32_SCHEMA, "float64": FLOAT64_SCHEMA,
                 "boolean": BOOLEAN_SCHEMA, "string": STRING_SCHEMA}


def _cast(value: Any, target: str) -> Any:
    if value is None:
        return None
    try:
        if target in ("int8", "int16", "int32", "int64"):
            if isinstance(value, str):
                return int(float(value)) if "." in value else int(value)
            return int(value)
        if target in ("float32", "float64"):
            return float(value)
        if target == "boolean":
            if isinstance(value, str):
                return value.strip().lower() == "true"
            return bool(value)
        if target == "string":
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, bytes | bytearray):
                import base64
                return base64.b64encode(bytes(value)).decode()
            return str(value)
    except (TypeError, ValueError) as exc:
        raise DataException(f"Value ({value!r}) cannot be cast to {target}") from exc
    raise DataException(f"Unknown type {target} for Cast")


class Cast(_KeyOrValue):
    purpose = "cast types"
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.whole: str | None = None
        self.casts: dict[str, str] = {}
        for item in _list(_require(configs, "spec")):
            if ":" in item:
                field, target = (s.strip() for s in item.split(":", 1))
                self.casts[field] = target.lower()
            else:
                self.whole = item.lower()
        for target in [*self.casts.values(), *([self.whole] if self.whole else [])]:
            if target not in _CAST_SCHEMAS:
                raise ConnectException(f"Invalid type found in casting spec: {target}")

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        if self.whole:
            return _cast(value, self.whole)
        if not isinstance(value, Mapping):
            raise DataException("Only Map objects supported in absence of schema for [cast types]")
        return {k: _cast(v, self.casts[k]) if k in self.casts else v for k, v in value.items()}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        if self.whole:
            target = _CAST_SCHEMAS[self.whole]
            builder = SchemaBuilder(target.type)
            if schema.optional:
                builder.optional()
            return builder.build(), _cast(value, self.whole)
        builder = _copy_schema(schema, SchemaBuilder.struct())
        for field in schema.fields:
            if field.name in self.casts:
                casted = SchemaBuilder(_CAST_SCHEMAS[self.casts[field.name]].type)
                if field.schema.optional:
                    casted.optional()
                builder.field(field.name, casted.build())
            else:
                builder.field(field.name, field.schema)
        new_schema = builder.build()
        out = Struct(new_schema)
        for field in schema.fields:
            item = value.get(field.name)
            out.put(field.name, _cast(item, self.casts[field.name]) if field.name in self.casts
                    else item)
        return new_schema, out


# ---------------------------------------------------------------- ExtractField / HoistField


class ExtractField(_KeyOrValue):
    purpose = "field extraction"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = _require(configs, "field")

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return value.get(self.field)

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        field = schema.field(self.field)
        if field is None:
            raise DataException(f"Unknown field: {self.field}")
        return field.schema, value.get(self.field)

    def apply(self, record: R) -> R | None:
        _schema, value = self.operating(record)
        if value is None:
            return self.new(record, None, None)
        return super().apply(record)


class HoistField(_KeyOrValue):
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = _require(configs, "field")

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return {self.field: value}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        new_schema = SchemaBuilder.struct().field(self.field, schema).build()
        return new_schema, Struct(new_schema).put(self.field, value)


# ---------------------------------------------------------------- Flatten


class Flatten(_KeyOrValue):
    purpose = "flattening"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.delimiter = str(configs.get("delimiter", "."))

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        out: dict[str, Any] = {}

        def walk(prefix: str, node: Mapping[str, Any]) -> None:
            for key, item in node.items():
                name = f"{prefix}{self.delimiter}{key}" if prefix else str(key)
                if isinstance(item, Mapping):
                    walk(name, item)
                else:
                    out[name] = item
        walk("", value)
        return out

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        builder = _copy_schema(schema, SchemaBuilder.struct())
        values: dict[str, Any] = {}

        def walk(prefix: str, node_schema: Schema, node: Struct | None, optional: bool) -> None:
            for field in node_schema.fields:
                name = f"{prefix}{self.delimiter}{field.name}" if prefix else field.name
                item = node.get(field.name) if node is not None else None
                if field.schema.type is SchemaType.STRUCT:
                    walk(name, field.schema, item, optional or field.schema.optional)
                else:
                    field_schema = field.schema
                    if optional and not field_schema.optional:
                        field_schema = _copy_schema(field_schema, SchemaBuilder(field_schema.type)
                                                    ).optional().build()
                    builder.field(name, field_schema)
                    values[name] = item
        walk("", schema, value, False)
        new_schema = builder.build()
        out = Struct(new_schema)
        for name, item in values.items():
            out.put(name, item)
        return new_schema, out


# ---------------------------------------------------------------- InsertField


def _field_spec(value: Any) -> tuple[str, bool] | None:
    """`name`, `name!` (required) or `name?` (optional), as Kafka's InsertField parses them."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if text.endswith("!"):
        return text[:-1], False
    if text.endswith("?"):
        return text[:-1], True
    return text, True


class InsertField(_KeyOrValue):
    purpose = "field insertion"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.topic_field = _field_spec(configs.get("topic.field"))
        self.partition_field = _field_spec(configs.get("partition.field"))
        self.offset_field = _field_spec(configs.get("offset.field"))
        self.timestamp_field = _field_spec(configs.get("timestamp.field"))
        self.static_field = _field_spec(configs.get("static.field"))
        self.static_value = configs.get("static.value")

    def _additions(self, record: ConnectRecord) -> list[tuple[tuple[str, bool], Schema, Any]]:
        out: list[tuple[tuple[str, bool], Schema, Any]] = []
        if self.topic_field:
            out.append((self.topic_field, STRING_SCHEMA, record.topic))
        if self.partition_field:
            out.append((self.partition_field, INT32_SCHEMA, record.kafka_partition))
        if self.offset_field:
            if not isinstance(record, SinkRecord):
                raise DataException("offset.field is only supported for sink connectors, "
                                    "but found: " + type(record).__name__)
            out.append((self.offset_field, INT64_SCHEMA, record.kafka_offset))
        if self.timestamp_field:
            out.append((self.timestamp_field, timestamp_schema(),
                        None if record.timestamp is None else datetime.datetime.fromtimestamp(
                            record.timestamp / 1000, datetime.UTC)))
        if self.static_field:
            out.append((self.static_field, STRING_SCHEMA, self.static_value))
        return out

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        out = dict(value)
        for (name, _), schema, item in self._additions(record):
            if schema.name == TIMESTAMP_LOGICAL_NAME and item is not None:
                item = record.timestamp
            out[name] = item
        return out

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        builder = _copy_schema(schema, SchemaBuilder.struct())
        for field in schema.fields:
            builder.field(field.name, field.schema)
        additions = self._additions(record)
        for (name, optional), field_schema, _ in additions:
            built = _copy_schema(field_schema, SchemaBuilder(field_schema.type))
            builder.field(name, (built.optional() if optional else built.required()).build())
        new_schema = builder.build()
        out = Struct(new_schema)
        for field in schema.fields:
            out.put(field.name, value.get(field.name))
        for (name, _), _, item in additions:
            out.put(name, item)
        return new_schema, out


# ---------------------------------------------------------------- MaskField


_MASKS: dict[SchemaType | type, Any] = {SchemaType.BOOLEAN: False, SchemaType.STRING: "",
                                        SchemaType.BYTES: b""}


def _mask_for(schema_type: SchemaType | None, value: Any, replacement: str | None) -> Any:
    if replacement is not None:
        if isinstance(value, str) or schema_type is SchemaType.STRING:
            return replacement
        if isinstance(value, bool) or schema_type is SchemaType.BOOLEAN:
            raise DataException("Cannot mask value of type boolean with custom replacement.")
        if isinstance(value, int) or schema_type in (SchemaType.INT8, SchemaType.INT16,
                                                     SchemaType.INT32, SchemaType.INT64):
            return int(replacement)
        if isinstance(value, float) or schema_type in (SchemaType.FLOAT32, SchemaType.FLOAT64):
            return float(replacement)
        raise DataException(f"Cannot mask value of type {type(value).__name__} with custom "
                            "replacement.")
    if schema_type in _MASKS:
        return _MASKS[schema_type]
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    if schema_type in (SchemaType.FLOAT32, SchemaType.FLOAT64):
        return 0.0
    if schema_type is SchemaType.ARRAY:
        return []
    if schema_type is SchemaType.MAP:
        return {}
    return 0


class MaskField(_KeyOrValue):
    purpose = "mask fields"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = set(_list(_require(configs, "fields")))
        replacement = configs.get("replacement")
        self.replacement = None if replacement in (None, "") else str(replacement)

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return {k: _mask_for(None, v, self.replacement) if k in self.fields else v
                for k, v in value.items()}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        out = Struct(schema)
        for field in schema.fields:
            item = value.get(field.name)
            if field.name in self.fields:
                item = _mask_for(field.schema.type, item, self.replacement)
            out.put(field.name, item)
        return schema, out


# ---------------------------------------------------------------- ReplaceField


class ReplaceField(_KeyOrValue):
    purpose = "field replacement"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.exclude = set(_list(configs.get("exclude") or configs.get("blacklist")))
        self.include = set(_list(configs.get("include") or configs.get("whitelist")))
        self.renames: dict[str, str] = {}
        for item in _list(configs.get("renames")):
            if ":" not in item:
                raise ConnectException(f"Invalid rename mapping: {item}")
            old, new = item.split(":", 1)
            self.renames[old.strip()] = new.strip()

    def _keep(self, name: str) -> bool:
        return name not in self.exclude and (not self.include or name in self.include)

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return {self.renames.get(k, k): v for k, v in value.items() if self._keep(k)}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        builder = _copy_schema(schema, SchemaBuilder.struct())
        kept = [f for f in schema.fields if self._keep(f.name)]
        for field in kept:
            builder.field(self.renames.get(field.name, field.name), field.schema)
        new_schema = builder.build()
        out = Struct(new_schema)
        for field in kept:
            out.put(self.renames.get(field.name, field.name), value.get(field.name))
        return new_schema, out


# ---------------------------------------------------------------- SetSchemaMetadata


class SetSchemaMetadata(_KeyOrValue):
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.schema_name = configs.get("schema.name") or None
        version = configs.get("schema.version")
        self.schema_version = int(version) if version not in (None, "") else None
        if self.schema_name is None and self.schema_version is None:
            raise ConnectException("Neither schema name nor version configured")

    def apply(self, record: R) -> R | None:
        schema, value = self.operating(record)
        if schema is None:
            raise DataException("Schema required for [updating schema metadata]")
        builder = _copy_schema(schema, SchemaBuilder(schema.type))
        if schema.type is SchemaType.STRUCT:
            for field in schema.fields:
                builder.field(field.name, field.schema)
        if self.schema_name is not None:
            builder.name(str(self.schema_name))
        if self.schema_version is not None:
            builder.version(self.schema_version)
        new_schema = builder.build()
        if isinstance(value, Struct):
            rebuilt = Struct(new_schema)
            for field in schema.fields:
                rebuilt.put(field.name, value.get(field.name))
            value = rebuilt
        return self.new(record, new_schema, value)


# ---------------------------------------------------------------- TimestampConverter

_JAVA_FORMAT = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
                ("mm", "%M"), ("ss", "%S"), ("SSS", "%f"), ("EEE", "%a"), ("MMM", "%b"),
                ("Z", "%z"), ("'T'", "T"), ("'Z'", "Z")]


def java_format(pattern: str) -> str:
    """SimpleDateFormat → strftime for the common tokens (yyyy, MM, dd, HH, mm, ss, SSS)."""
    out, index = "", 0
    tokens = sorted(_JAVA_FORMAT, key=lambda t: -len(t[0]))
    while index < len(pattern):
        for token, replacement in tokens:
            if pattern.startswith(token, index):
                out += replacement
                index += len(token)
                break
        else:
            out += pattern[index]
            index += 1
    return out


def _to_millis(value: Any, fmt: str | None, precision: str) -> int:
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(value, datetime.date):
        return int(datetime.datetime(value.year, value.month, value.day,
                                     tzinfo=datetime.UTC).timestamp() * 1000)
    if isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(value, int | float) and not isinstance(value, bool):
        factor = {"seconds": 1000, "milliseconds": 1, "microseconds": 0.001,
                  "nanoseconds": 0.000001}[precision]
        return int(value * factor)
    if isinstance(value, str):
        if fmt is None:
            raise ConnectException("TimestampConverter requires format option to be specified when "
                                   "using string timestamps")
        parsed = datetime.datetime.strptime(value, java_format(fmt))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return int(parsed.timestamp() * 1000)
    raise DataException(f"Expected a timestamp value, found {type(value).__name__}")


def _from_millis(millis: int, target: str, fmt: str | None, precision: str) -> tuple[Schema, Any]:
    moment = datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC)
    if target == "string":
        if fmt is None:
            raise ConnectException("TimestampConverter requires format option to be specified when "
                                   "using string timestamps")
        text = moment.strftime(java_format(fmt))
        if "%f" in java_format(fmt):
            text = text.replace(moment.strftime("%f"), f"{moment.microsecond // 1000:03d}")
        return STRING_SCHEMA, text
    if target == "unix":
        divisor = {"seconds": 1000, "milliseconds": 1, "microseconds": 0.001,
                   "nanoseconds": 0.000001}[precision]
        return INT64_SCHEMA, int(millis / divisor)
    if target == "date":
        return date_schema(), moment.date()
    if target == "time":
        return time_schema(), moment.time()
    return timestamp_schema(), moment


class TimestampConverter(_KeyOrValue):
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = str(configs.get("field", "") or "")
        self.target = _require(configs, "target.type").strip().lower()
        if self.target not in ("string", "unix", "date", "time", "timestamp"):
            raise ConnectException(f"Unknown timestamp type in TimestampConverter: {self.target}")
        self.format = configs.get("format") or None
        self.precision = str(configs.get("unix.precision", "milliseconds"))

    def _convert(self, value: Any) -> tuple[Schema, Any]:
        if value is None:
            return _from_millis(0, self.target, self.format, self.precision)[0], None
        return _from_millis(_to_millis(value, self.format, self.precision), self.target, self.format,
                            self.precision)

    def apply(self, record: R) -> R | None:
        schema, value = self.operating(record)
        if not self.field:
            new_schema, new_value = self._convert(value)
            return self.new(record, new_schema if schema is not None else None,
                            _schemaless_time(new_value) if schema is None else new_value)
        if value is None:
            return record
        if schema is None:
            out = dict(value)
            out[self.field] = _schemaless_time(self._convert(value.get(self.field))[1])
            return self.new(record, None, out)
        builder = _copy_schema(schema, SchemaBuilder.struct())
        converted_schema = self._convert(value.get(self.field))[0]
        for field in schema.fields:
            if field.name == self.field:
                built = _copy_schema(converted_schema, SchemaBuilder(converted_schema.type))
                if field.schema.optional:
                    built.optional()
                builder.field(field.name, built.build())
            else:
                builder.field(field.name, field.schema)
        new_schema = builder.build()
        out_struct = Struct(new_schema)
        for field in schema.fields:
            item = value.get(field.name)
            out_struct.put(field.name, self._convert(item)[1] if field.name == self.field else item)
        return self.new(record, new_schema, out_struct)


def _schemaless_time(value: Any) -> Any:
    """Schemaless records carry java.util.Date in Kafka; JSON renders it as epoch millis."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    return value


# ---------------------------------------------------------------- routers, headers, filter


class RegexRouter(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.regex = re.compile(_require(configs, "regex"))
        # Java's $1 group references → Python's \g<1>
        self.replacement = re.sub(r"\$(\d+)", r"\\g<\1>", _require(configs, "replacement"))

    def apply(self, record: R) -> R | None:
        if self.regex.fullmatch(record.topic):
            topic = self.regex.sub(self.replacement, record.topic, count=1)
            return record.new_record(topic, record.kafka_partition, record.key_schema, record.key,
                                     record.value_schema, record.value, record.timestamp)
        return record


class TimestampRouter(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.topic_format = str(configs.get("topic.format", "${topic}-${timestamp}"))
        self.timestamp_format = java_format(str(configs.get("timestamp.format", "yyyyMMdd")))

    def apply(self, record: R) -> R | None:
        if record.timestamp is None:
            raise DataException(f"Timestamp missing on record: {record}")
        stamp = datetime.datetime.fromtimestamp(record.timestamp / 1000, datetime.UTC).strftime(
            self.timestamp_format)
        topic = self.topic_format.replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return record.new_record(topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp)


class ValueToKey(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = _list(_require(configs, "fields"))

    def apply(self, record: R) -> R | None:
        value = record.value
        if record.value_schema is None:
            if not isinstance(value, Mapping):
                raise DataException("Only Map objects supported in absence of schema for [copying "
                                    "fields from value to key]")
            key: Any = {name: value.get(name) for name in self.fields}
            key_schema = None
        else:
            builder = SchemaBuilder.struct()
            for name in self.fields:
                field = record.value_schema.field(name)
                if field is None:
                    raise DataException(f"Field does not exist: {name}")
                builder.field(name, field.schema)
            key_schema = builder.build()
            key = Struct(key_schema)
            for name in self.fields:
                key.put(name, value.get(name))
        return record.new_record(record.topic, record.kafka_partition, key_schema, key,
                                 record.value_schema, record.value, record.timestamp)


class Filter(Transformation):
    """Drops every record; meant to be used with a predicate."""

    def apply(self, record: R) -> R | None:
        return None


class DropHeaders(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.names = set(_list(_require(configs, "headers")))

    def apply(self, record: R) -> R | None:
        headers = record.headers.copy()
        for name in self.names:
            headers.remove(name)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class InsertHeader(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.header = _require(configs, "header")
        self.literal = _require(configs, "value.literal")

    def apply(self, record: R) -> R | None:
        headers = record.headers.copy().add(self.header, self.literal, STRING_SCHEMA)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class HeaderFrom(_KeyOrValue):
    purpose = "header from"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = _list(_require(configs, "fields"))
        self.headers = _list(_require(configs, "headers"))
        if len(self.fields) != len(self.headers):
            raise ConnectException("'fields' config must have the same number of elements as "
                                   "'headers' config.")
        self.operation = str(configs.get("operation", "copy")).lower()
        if self.operation not in ("copy", "move"):
            raise ConnectException(f"Invalid value {self.operation} for configuration operation")

    def apply(self, record: R) -> R | None:
        schema, value = self.operating(record)
        if value is None:
            return record
        headers = record.headers.copy()
        if schema is None:
            if not isinstance(value, Mapping):
                raise DataException("Only Map objects supported in absence of schema")
            for field, header in zip(self.fields, self.headers, strict=True):
                headers.add(header, value.get(field))
            new_value: Any = value
            if self.operation == "move":
                new_value = {k: v for k, v in value.items() if k not in self.fields}
            new_schema = None
        else:
            for field, header in zip(self.fields, self.headers, strict=True):
                found = schema.field(field)
                headers.add(header, value.get(field), found.schema if found else None)
            new_schema, new_value = schema, value
            if self.operation == "move":
                builder = _copy_schema(schema, SchemaBuilder.struct())
                kept = [f for f in schema.fields if f.name not in self.fields]
                for f in kept:
                    builder.field(f.name, f.schema)
                new_schema = builder.build()
                new_value = Struct(new_schema)
                for f in kept:
                    new_value.put(f.name, value.get(f.name))
        moved = self.new(record, new_schema, new_value)
        return moved.new_record(moved.topic, moved.kafka_partition, moved.key_schema, moved.key,
                                moved.value_schema, moved.value, moved.timestamp, headers)


# ---------------------------------------------------------------- predicates


class TopicNameMatches(Predicate):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.pattern = re.compile(_require(configs, "pattern"))

    def test(self, record: ConnectRecord) -> bool:
        return record.topic is not None and self.pattern.fullmatch(record.topic) is not None


class HasHeaderKey(Predicate):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.name = _require(configs, "name")

    def test(self, record: ConnectRecord) -> bool:
        return record.headers.last_with_name(self.name) is not None


class RecordIsTombstone(Predicate):
    def test(self, record: ConnectRecord) -> bool:
        return record.value is None


# ---------------------------------------------------------------- registry

TRANSFORMS: dict[str, type[Transformation]] = {}
PREDICATES: dict[str, type[Predicate]] = {
    PKG + "predicates.TopicNameMatches": TopicNameMatches,
    PKG + "predicates.HasHeaderKey": HasHeaderKey,
    PKG + "predicates.RecordIsTombstone": RecordIsTombstone,
}

for _cls in (Cast, ExtractField, Flatten, HeaderFrom, HoistField, InsertField, MaskField,
             ReplaceField, SetSchemaMetadata, TimestampConverter):
    for _variant, _is_key in (("Key", True), ("Value", False)):
        TRANSFORMS[f"{PKG}{_cls.__name__}${_variant}"] = type(
            f"{_cls.__name__}{_variant}", (_cls,), {"is_key": _is_key, "__module__": __name__})
for _cls2 in (DropHeaders, Filter, InsertHeader, RegexRouter, TimestampRouter, ValueToKey):
    TRANSFORMS[PKG + _cls2.__name__] = _cls2

def _resolve(name: str, table: Mapping[str, type]) -> type:
    name = name.strip()
    if name in table:
        return table[name]
    short = {full[len(PKG):]: cls for full, cls in table.items()}
    short.update({full.rsplit(".", 1)[-1]: cls for full, cls in table.items()})
    if name in short:
        return short[name]
    try:
        return load_object(name.replace("$", ""))  # type: ignore[no-any-return]
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConnectException(f"Class {name} could not be found.") from exc


def resolve_transform(name: str) -> type[Transformation]:
    return _resolve(name, TRANSFORMS)


def resolve_predicate(name: str) -> type[Predicate]:
    return _resolve(name, PREDICATES)
