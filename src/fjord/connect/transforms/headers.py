"""The header SMTs: DropHeaders, InsertHeader, HeaderFrom."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, Transformation
from fjord.connect.data import (
    STRING_SCHEMA,
    DataException,
    SchemaBuilder,
    Struct,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    R,
    copy_schema,
    list_of,
    required,
)


class DropHeaders(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.names = set(list_of(required(configs, "headers")))

    def apply(self, record: R) -> R | None:
        headers = record.headers.copy()
        for name in self.names:
            headers.remove(name)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class InsertHeader(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.header = required(configs, "header")
        self.literal = required(configs, "value.literal")

    def apply(self, record: R) -> R | None:
        headers = record.headers.copy().add(self.header, self.literal, STRING_SCHEMA)
        return record.new_record(record.topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp, headers)


class HeaderFrom(KeyOrValue):
    purpose = "header from"

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.fields = list_of(required(configs, "fields"))
        self.headers = list_of(required(configs, "headers"))
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
                builder = copy_schema(schema, SchemaBuilder.struct())
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
