"""Kafka's built-in SMTs and predicates on schemaless and Struct records (pure functions),
plus a chain with a negated predicate driven through a real worker."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from fjord.connect.api import ConnectHeaders, SinkRecord, SourceRecord
from fjord.connect.data import (
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
)
from fjord.connect.transform_chain import TransformationChain
from tests.connect.support import WorkerProcess, wait_until
from tests.support import messages
from tests.support.broker import BrokerProcess

P = "org.apache.kafka.connect.transforms."
PERSON = (SchemaBuilder.struct().name("person").field("id", INT32_SCHEMA)
          .field("name", STRING_SCHEMA)
          .field("address", SchemaBuilder.struct().field("city", OPTIONAL_STRING_SCHEMA).build())
          .build())


def person() -> Struct:
    field = PERSON.field("address")
    assert field is not None
    address = Struct(field.schema).put("city", "Oslo")
    return Struct(PERSON).put("id", 7).put("name", "Ada").put("address", address)


def chain(**config: str) -> TransformationChain:
    return TransformationChain.from_config(config)


def run(config: dict[str, str], record: SinkRecord | SourceRecord) -> SinkRecord | SourceRecord | None:
    return TransformationChain.from_config(config).apply(record)


def sink(value: Any, schema: Schema | None = None, key: Any = None, topic: str = "orders",
         headers: ConnectHeaders | None = None) -> SinkRecord:
    return SinkRecord(topic, 0, None, key, schema, value, 1700000000000,
                      headers or ConnectHeaders(), 42)


def test_field_transforms_schemaless() -> None:
    cfg = {"transforms": "cast,mask,rename,insert,flat",
           "transforms.cast.type": P + "Cast$Value", "transforms.cast.spec": "n:int32,f:string",
           "transforms.mask.type": P + "MaskField$Value", "transforms.mask.fields": "secret",
           "transforms.rename.type": P + "ReplaceField$Value",
           "transforms.rename.renames": "n:number", "transforms.rename.exclude": "drop",
           "transforms.insert.type": P + "InsertField$Value",
           "transforms.insert.topic.field": "t", "transforms.insert.offset.field": "o",
           "transforms.insert.static.field": "src", "transforms.insert.static.value": "fjord",
           "transforms.flat.type": P + "Flatten$Value", "transforms.flat.delimiter": "_"}
    out = run(cfg, sink({"n": "12", "f": 1.5, "secret": "pw", "drop": 1, "nest": {"a": {"b": 2}}}))
    assert out is not None and out.value == {
        "number": 12, "f": "1.5", "secret": "", "nest_a_b": 2, "t": "orders", "o": 42,
        "src": "fjord"}


def test_field_transforms_with_schema() -> None:
    cfg = {"transforms": "flat,cast,mask",
           "transforms.flat.type": P + "Flatten$Value",
           "transforms.cast.type": P + "Cast$Value", "transforms.cast.spec": "id:string",
           "transforms.mask.type": P + "MaskField$Value", "transforms.mask.fields": "name",
           "transforms.mask.replacement": "***"}
    out = run(cfg, sink(person(), PERSON))
    assert out is not None and isinstance(out.value, Struct)
    assert dict(out.value.items()) == {"id": "7", "name": "***", "address.city": "Oslo"}
    assert out.value_schema is not None
    id_field = out.value_schema.field("id")
    assert id_field is not None and id_field.schema.type is SchemaType.STRING
    assert out.value_schema.name == "person"


def test_extract_hoist_value_to_key_and_schema_metadata() -> None:
    out = run({"transforms": "vk,ek", "transforms.vk.type": P + "ValueToKey",
               "transforms.vk.fields": "id", "transforms.ek.type": P + "ExtractField$Key",
               "transforms.ek.field": "id"}, sink(person(), PERSON))
    assert out is not None and out.key == 7 and out.key_schema == INT32_SCHEMA
    out = run({"transforms": "h,m", "transforms.h.type": P + "HoistField$Value",
               "transforms.h.field": "line", "transforms.m.type": P + "SetSchemaMetadata$Value",
               "transforms.m.schema.name": "com.example.Line", "transforms.m.schema.version": "3"},
              sink("hello", STRING_SCHEMA))
    assert out is not None and out.value.get("line") == "hello"
    assert out.value_schema is not None and out.value_schema.name == "com.example.Line"
    assert out.value_schema.version == 3


def test_routers_headers_and_timestamps() -> None:
    cfg = {"transforms": "route,ts,hdr,drop,from,conv",
           "transforms.route.type": P + "RegexRouter", "transforms.route.regex": "(.*)ers",
           "transforms.route.replacement": "$1-v2",
           "transforms.ts.type": P + "TimestampRouter",
           "transforms.ts.topic.format": "${topic}-${timestamp}",
           "transforms.ts.timestamp.format": "yyyy.MM.dd",
           "transforms.hdr.type": P + "InsertHeader", "transforms.hdr.header": "origin",
           "transforms.hdr.value.literal": "fjord",
           "transforms.drop.type": P + "DropHeaders", "transforms.drop.headers": "noise",
           "transforms.from.type": P + "HeaderFrom$Value", "transforms.from.fields": "id",
           "transforms.from.headers": "the-id", "transforms.from.operation": "move",
           "transforms.conv.type": P + "TimestampConverter$Value", "transforms.conv.field": "at",
           "transforms.conv.target.type": "string", "transforms.conv.format": "yyyy-MM-dd HH:mm"}
    headers = ConnectHeaders().add("noise", "x")
    out = run(cfg, sink({"id": 5, "at": 1700000000000}, headers=headers))
    assert out is not None
    assert out.topic == "ord-v2-2023.11.14"
    assert [(h.key, h.value) for h in out.headers] == [("origin", "fjord"), ("the-id", 5)]
    assert out.value == {"at": "2023-11-14 22:13"}
    back = run({"transforms": "c", "transforms.c.type": P + "TimestampConverter$Value",
                "transforms.c.target.type": "Timestamp"}, sink(1700000000000, None))
    assert back is not None and back.value == 1700000000000
    stamp = run({"transforms": "c", "transforms.c.type": P + "TimestampConverter$Value",
                 "transforms.c.target.type": "Timestamp"},
                sink(1700000000000, SchemaBuilder.int64().build()))
    assert stamp is not None and stamp.value == datetime.datetime(2023, 11, 14, 22, 13, 20,
                                                                  tzinfo=datetime.UTC)


def test_predicates_and_negate() -> None:
    cfg = {"transforms": "keep", "transforms.keep.type": P + "Filter",
           "transforms.keep.predicate": "isOrders", "transforms.keep.negate": "true",
           "predicates": "isOrders,tomb,hdr",
           "predicates.isOrders.type": P + "predicates.TopicNameMatches",
           "predicates.isOrders.pattern": "ord.*",
           "predicates.tomb.type": P + "predicates.RecordIsTombstone",
           "predicates.hdr.type": P + "predicates.HasHeaderKey", "predicates.hdr.name": "h"}
    assert run(cfg, sink({"a": 1}, topic="orders")) is not None  # matches → negated → kept
    assert run(cfg, sink({"a": 1}, topic="other")) is None  # dropped by Filter
    drop_tombstones = {"transforms": "f", "transforms.f.type": "Filter",
                       "transforms.f.predicate": "t", "predicates": "t",
                       "predicates.t.type": "RecordIsTombstone"}
    assert run(drop_tombstones, sink(None)) is None
    assert run(drop_tombstones, sink("x")) is not None
    with pytest.raises(Exception, match="not defined"):
        chain(transforms="f", **{"transforms.f.type": "Filter", "transforms.f.predicate": "nope"})


def test_transform_chain_in_a_running_connector(connect_broker: BrokerProcess,
                                                standalone_worker: WorkerProcess,
                                                tmp_path: Path) -> None:
    source = tmp_path / "words.txt"
    source.write_text("keep me\nskip me\nkeep too\n")
    status, body = standalone_worker.call("POST", "/connectors", {"name": "smt-source", "config": {
        "connector.class": "FileStreamSource", "file": str(source), "topic": "smt-raw",
        "transforms": "route,hdr,hoist", "transforms.route.type": P + "RegexRouter",
        "transforms.route.regex": "smt-(.*)", "transforms.route.replacement": "smt-routed-$1",
        "transforms.hdr.type": P + "InsertHeader", "transforms.hdr.header": "via",
        "transforms.hdr.value.literal": "fjord-connect",
        "transforms.hoist.type": P + "HoistField$Value", "transforms.hoist.field": "line",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false"}})
    assert status == 201, body
    consumer = Consumer({"bootstrap.servers": connect_broker.bootstrap, "group.id": "smt-check",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["smt-routed-raw"])
    got: list[tuple[bytes, list[tuple[str, bytes | None]]]] = []

    def poll() -> bool:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            got.append((messages.value(message), messages.headers(message)))
        return len(got) >= 3
    try:
        wait_until(poll, timeout=30, interval=0, message="three routed records")
    finally:
        consumer.close()
    assert [v for v, _ in got] == [b'{"line":"keep me"}', b'{"line":"skip me"}',
                                   b'{"line":"keep too"}']
    assert all(h == [("via", b"fjord-connect")] for _, h in got)
    assert standalone_worker.call("GET", "/connectors/smt-source/topics")[1] == {
        "smt-source": {"topics": ["smt-routed-raw"]}}
    assert standalone_worker.call("DELETE", "/connectors/smt-source")[0] == 204
