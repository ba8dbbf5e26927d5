"""Flatten: nested structs and maps become top-level fields joined by a delimiter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectRecord
from fjord.connect.data import (
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    copy_schema,
)

# ---------------------------------------------------------------- Flatten


class Flatten(KeyOrValue):
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
        builder = copy_schema(schema, SchemaBuilder.struct())
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
                        field_schema = copy_schema(field_schema, SchemaBuilder(field_schema.type)
                                                    ).optional().build()
                    builder.field(name, field_schema)
                    values[name] = item
        walk("", schema, value, False)
        new_schema = builder.build()
        out = Struct(new_schema)
        for name, item in values.items():
            out.put(name, item)
        return new_schema, out
