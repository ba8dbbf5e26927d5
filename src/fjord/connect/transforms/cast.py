"""Cast: change a field's, or the whole key's or value's, primitive type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, ConnectRecord
from fjord.connect.data import (
    BOOLEAN_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    DataException,
    Schema,
    SchemaBuilder,
    Struct,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    copy_schema,
    list_of,
    required,
)

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


class Cast(KeyOrValue):
    purpose = "cast types"
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.whole: str | None = None
        self.casts: dict[str, str] = {}
        for item in list_of(required(configs, "spec")):
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
        builder = copy_schema(schema, SchemaBuilder.struct())
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
