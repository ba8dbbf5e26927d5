"""The field SMTs: ExtractField, HoistField, InsertField, MaskField, ReplaceField, ValueToKey."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, ConnectRecord, SinkRecord, Transformation
from fjord.connect.data import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_LOGICAL_NAME,
    DataException,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    timestamp_schema,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    R,
    copy_schema,
    list_of,
    required,
)

# ---------------------------------------------------------------- ExtractField / HoistField


class ExtractField(KeyOrValue):
    purpose = "field extraction"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = required(configs, "field")

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


class HoistField(KeyOrValue):
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = required(configs, "field")

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return {self.field: value}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        new_schema = SchemaBuilder.struct().field(self.field, schema).build()
        return new_schema, Struct(new_schema).put(self.field, value)



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


class InsertField(KeyOrValue):
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
        builder = copy_schema(schema, SchemaBuilder.struct())
        for field in schema.fields:
            builder.field(field.name, field.schema)
        additions = self._additions(record)
        for (name, optional), field_schema, _ in additions:
            built = copy_schema(field_schema, SchemaBuilder(field_schema.type))
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


class MaskField(KeyOrValue):
    purpose = "mask fields"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = set(list_of(required(configs, "fields")))
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


class ReplaceField(KeyOrValue):
    purpose = "field replacement"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.exclude = set(list_of(configs.get("exclude") or configs.get("blacklist")))
        self.include = set(list_of(configs.get("include") or configs.get("whitelist")))
        self.renames: dict[str, str] = {}
        for item in list_of(configs.get("renames")):
            if ":" not in item:
                raise ConnectException(f"Invalid rename mapping: {item}")
            old, new = item.split(":", 1)
            self.renames[old.strip()] = new.strip()

    def _keep(self, name: str) -> bool:
        return name not in self.exclude and (not self.include or name in self.include)

    def schemaless(self, record: ConnectRecord, value: Any) -> Any:
        return {self.renames.get(k, k): v for k, v in value.items() if self._keep(k)}

    def with_schema(self, record: ConnectRecord, schema: Schema, value: Any) -> tuple[Schema, Any]:
        builder = copy_schema(schema, SchemaBuilder.struct())
        kept = [f for f in schema.fields if self._keep(f.name)]
        for field in kept:
            builder.field(self.renames.get(field.name, field.name), field.schema)
        new_schema = builder.build()
        out = Struct(new_schema)
        for field in kept:
            out.put(self.renames.get(field.name, field.name), value.get(field.name))
        return new_schema, out



class ValueToKey(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = list_of(required(configs, "fields"))

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
