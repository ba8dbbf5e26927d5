"""A third-party connector found through plugin.path, emitting Structs through JsonConverter with
Kafka's envelope; converters round-trip."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from confluent_kafka import Consumer

from fjord.connect.converters import JsonConverter
from fjord.connect.data import (
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    decimal_schema,
)
from fjord.connect.plugins import make_converter
from tests.connect.support import WorkerProcess, wait_until
from tests.support import messages
from tests.support.broker import BrokerProcess

PLUGIN = '''
import threading
from fjord.connect.api import SourceConnector, SourceRecord, SourceTask
from fjord.connect.config_def import ConfigDef, Importance, Type, at_least
from fjord.connect.data import INT64_SCHEMA, STRING_SCHEMA, SchemaBuilder, Struct

SCHEMA = (SchemaBuilder.struct().name("com.example.Tick").field("n", INT64_SCHEMA)
          .field("label", STRING_SCHEMA).build())
CONFIG = (ConfigDef().define("topic", Type.STRING, importance=Importance.HIGH)
          .define("count", Type.INT, 3, at_least(1), Importance.LOW))


class TickConnector(SourceConnector):
    def version(self): return "1.2.3"
    def start(self, props): self.props = dict(props)
    def task_class(self): return TickTask
    def task_configs(self, max_tasks): return [dict(self.props)]
    def stop(self): pass
    def config(self): return CONFIG


class TickTask(SourceTask):
    def version(self): return "1.2.3"
    def start(self, props):
        parsed = CONFIG.parse(props)
        self.topic, self.count = parsed["topic"], parsed["count"]
        stored = self.context.offset_storage_reader().offset({"ticker": "t"}) or {}
        self.next = stored.get("n", 0)
        self.stopped = threading.Event()
    def poll(self):
        if self.next >= self.count:
            self.stopped.wait(0.2)
            return None
        n, self.next = self.next, self.next + 1
        value = Struct(SCHEMA).put("n", n).put("label", f"tick-{n}")
        return [SourceRecord.create({"ticker": "t"}, {"n": n + 1}, self.topic, None,
                                    STRING_SCHEMA, f"k{n}", SCHEMA, value)]
    def stop(self): self.stopped.set()
'''


def test_plugin_path_connector_with_json_envelope(connect_broker: BrokerProcess,
                                                  tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tick_plugin.py").write_text(textwrap.dedent(PLUGIN))
    worker = WorkerProcess(tmp_path / "w", connect_broker.bootstrap, props={
        "plugin.path": str(plugins),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true"}).start()
    try:
        listed = {p["class"]: p for p in worker.call("GET", "/connector-plugins")[1]}
        assert listed["tick_plugin.TickConnector"] == {"class": "tick_plugin.TickConnector",
                                                       "type": "source", "version": "1.2.3"}
        # connectors installed as packages with a `fjord.connectors` entry point are listed too
        from importlib.metadata import entry_points
        installed = {e.value.replace(":", ".") for e in entry_points(group="fjord.connectors")}
        assert installed and installed <= set(listed)
        status, body = worker.call("POST", "/connectors", {"name": "ticks", "config": {
            "connector.class": "TickConnector", "topic": "ticks", "count": "0"}})
        assert status == 400 and "count" in body["message"]
        status, body = worker.call("POST", "/connectors", {"name": "ticks", "config": {
            "connector.class": "TickConnector", "topic": "ticks", "count": "3"}})
        assert status == 201, body
        consumer = Consumer({"bootstrap.servers": connect_broker.bootstrap, "group.id": "ticks",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe(["ticks"])
        values: list[bytes] = []

        def poll() -> bool:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                values.append(messages.value(message))
            return len(values) >= 3
        try:
            wait_until(poll, timeout=30, interval=0, message="three ticks")
        finally:
            consumer.close()
        first = json.loads(values[0])
        assert first == {"schema": {"type": "struct", "optional": False, "name": "com.example.Tick",
                                    "fields": [{"type": "int64", "optional": False, "field": "n"},
                                               {"type": "string", "optional": False,
                                                "field": "label"}]},
                         "payload": {"n": 0, "label": "tick-0"}}
        wait_until(lambda: worker.call("GET", "/connectors/ticks/offsets")[1]["offsets"] == [
            {"partition": {"ticker": "t"}, "offset": {"n": 3}}], message="offsets stored")
    finally:
        worker.stop()


def test_json_converter_round_trips_structs_and_logical_types() -> None:
    import decimal
    schema = (SchemaBuilder.struct().name("r").field("id", INT64_SCHEMA)
              .field("note", OPTIONAL_STRING_SCHEMA).field("price", decimal_schema(2)).build())
    value = Struct(schema).put("id", 9).put("price", decimal.Decimal("12.34"))
    converter = make_converter("JsonConverter", {}, False)
    raw = converter.from_connect_data("t", schema, value)
    assert raw is not None
    doc = json.loads(raw)
    assert doc["payload"] == {"id": 9, "note": None, "price": "BNI="}
    assert doc["schema"]["fields"][2]["name"] == "org.apache.kafka.connect.data.Decimal"
    back_schema, back = converter.to_connect_data("t", raw)
    assert back_schema == schema and back == value
    plain = JsonConverter()
    plain.configure({"schemas.enable": "false"}, False)
    assert plain.from_connect_data("t", schema, value) == b'{"id":9,"note":null,"price":"BNI="}'
    assert plain.to_connect_data("t", b'{"a":[1,2]}') == (None, {"a": [1, 2]})
    for name in ("org.apache.kafka.connect.storage.StringConverter", "StringConverter"):
        assert make_converter(name, {}, False).to_connect_data("t", b"x")[1] == "x"
    assert make_converter("org.apache.kafka.connect.converters.ByteArrayConverter", {},
                          True).from_connect_data("t", None, b"\x00") == b"\x00"
