"""What the built-in SMTs share: config helpers and the `$Key`/`$Value` plumbing.

Kafka nests `Key` and `Value` classes inside each SMT; here an SMT subclasses `KeyOrValue`
and the registry (fjord.connect.transforms) makes the two variants under Kafka's names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from fjord.connect.api import ConnectException, ConnectRecord, Transformation
from fjord.connect.data import (
    DataException,
    Schema,
    SchemaBuilder,
    SchemaType,
)

R = TypeVar("R", bound=ConnectRecord)
PKG = "org.apache.kafka.connect.transforms."


def list_of(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def required(configs: Mapping[str, Any], key: str) -> str:
    value = configs.get(key)
    if value is None or str(value) == "":
        raise ConnectException(f'Missing required configuration "{key}" which has no default value.')
    return str(value)


def copy_schema(schema: Schema, builder: SchemaBuilder) -> SchemaBuilder:
    builder.name(schema.name).version(schema.version).doc(schema.doc)
    if schema.parameters:
        builder.parameters(schema.parameters)
    if schema.optional:
        builder.optional()
    return builder


class KeyOrValue(Transformation):
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
