"""SetSchemaMetadata: set the schema name and version of the key or value."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException
from fjord.connect.data import (
    DataException,
    SchemaBuilder,
    SchemaType,
    Struct,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    R,
    copy_schema,
)

# ---------------------------------------------------------------- SetSchemaMetadata


class SetSchemaMetadata(KeyOrValue):
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
        builder = copy_schema(schema, SchemaBuilder(schema.type))
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
