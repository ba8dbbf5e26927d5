"""Debezium's change event: key and envelope schemas, named as Debezium names them.

Topic `<topic.prefix>.<schema>.<table>` (PostgreSQL) or `<topic.prefix>.<database>.<table>`
(MySQL); key `<topic>.Key` with the primary-key columns; value `<topic>.Envelope` with
`before`, `after` (both `<topic>.Value`), `source`, `op` (c, u, d, r), `ts_ms` and
`transaction`. Consumers and sinks written for Debezium (ExtractNewRecordState, JDBC sinks
that unwrap the envelope) therefore read Fjord's events unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fjord.connect.data import (
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaBuilder,
    Struct,
)

VERSION = "2.7.0.Final-fjord"

TRANSACTION_SCHEMA = (SchemaBuilder.struct().name("event.block").version(1).optional()
                      .field("id", STRING_SCHEMA).field("total_order", INT64_SCHEMA)
                      .field("data_collection_order", INT64_SCHEMA).build())


def snapshot_field() -> Schema:
    return (SchemaBuilder.string().optional().name("io.debezium.data.Enum").version(1)
            .parameter("allowed", "true,last,false,incremental").default_value("false").build())


def struct_schema(name: str, fields: Iterable[tuple[str, Schema]], optional: bool) -> Schema:
    builder = SchemaBuilder.struct().name(name)
    for field_name, schema in fields:
        builder.field(field_name, schema)
    if optional:
        builder.optional()
    return builder.build()


def envelope_schema(topic: str, value_schema: Schema, source_schema: Schema) -> Schema:
    return (SchemaBuilder.struct().name(f"{topic}.Envelope").version(2)
            .field("before", value_schema).field("after", value_schema)
            .field("source", source_schema).field("op", STRING_SCHEMA)
            .field("ts_ms", OPTIONAL_INT64_SCHEMA).field("transaction", TRANSACTION_SCHEMA)
            .build())


def fill(schema: Schema, values: Mapping[str, Any]) -> Struct:
    """A struct with the given values; fields not given stay unset (null)."""
    struct = Struct(schema)
    for item in schema.fields:
        if item.name in values:
            struct.put(item.name, values[item.name])
    return struct


def envelope(schema: Schema, op: str, before: Struct | None, after: Struct | None, source: Struct,
             ts_ms: int) -> Struct:
    return fill(schema, {"before": before, "after": after, "source": source, "op": op,
                         "ts_ms": ts_ms})


HEARTBEAT_KEY = (SchemaBuilder.struct().name("io.debezium.connector.common.ServerNameKey")
                 .field("serverName", STRING_SCHEMA).build())
HEARTBEAT_VALUE = (SchemaBuilder.struct().name("io.debezium.connector.common.Heartbeat")
                   .field("ts_ms", INT64_SCHEMA).build())
OPTIONAL_STRING = OPTIONAL_STRING_SCHEMA
