"""Avro end to end: the JDBC source writes through AvroConverter into Fjord's registry, and
confluent-kafka's own AvroDeserializer (SchemaRegistryClient at Fjord's registry) reads it;
records confluent-kafka's AvroSerializer wrote land in PostgreSQL through the JDBC sink's
AvroConverter; an upstream column change becomes a new schema version."""

from __future__ import annotations

import datetime
import decimal
import json
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.connect.support import STARTED, WorkerProcess, wait_until
from tests.support.broker import BrokerProcess
from tests.support.postgres import PASSWORD as PG_PASSWORD
from tests.support.postgres import PostgresServer
from tests.support.schema_registry import RegistryProcess

AVRO = "io.confluent.connect.avro.AvroConverter"


@pytest.fixture(scope="module")
def registry(db_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RegistryProcess]:
    r = RegistryProcess(tmp_path_factory.mktemp("avro-sr"), db_broker.bootstrap).start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def worker(db_broker: BrokerProcess, registry: RegistryProcess,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    w = WorkerProcess(tmp_path_factory.mktemp("avro-worker"), db_broker.bootstrap, props={
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": AVRO, "value.converter.schema.registry.url": registry.url}).start()
    STARTED.remove(w)
    yield w
    w.stop()


def deserialize_all(bootstrap: str, topic: str, registry_url: str, expect: int) -> list[dict]:
    deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry_url}))
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out: list[dict] = []
    try:
        def more() -> bool:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                out.append(deserializer(message.value(),
                                        SerializationContext(topic, MessageField.VALUE)))
            return len(out) >= expect
        wait_until(more, timeout=60, interval=0, message=f"{expect} Avro records in {topic}")
    finally:
        consumer.close()
    return out


def test_avro_end_to_end(worker: WorkerProcess, registry: RegistryProcess, db_broker: BrokerProcess,
                         postgres_server: PostgresServer) -> None:
    db = postgres_server.new_database("avro")
    with postgres_server.connect(db) as conn:
        conn.execute("CREATE TABLE items (id SERIAL PRIMARY KEY, name TEXT NOT NULL, "
                     "price NUMERIC(8,2) NOT NULL, added DATE, at TIMESTAMP NOT NULL, "
                     "small SMALLINT, blob BYTEA)")
        for i in range(1, 11):
            conn.execute("INSERT INTO items (name, price, added, at, small, blob) "
                         "VALUES (%s, %s, %s, %s, %s, %s)",
                         (f"item{i}", decimal.Decimal(f"{i}.99"), datetime.date(2024, 2, i),
                          datetime.datetime(2024, 2, i, 8, 30), i, bytes([i, 0, 255])))
    prefix = f"{db}-"
    status, body = worker.call("POST", "/connectors", {"name": "pg-avro-source", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": postgres_server.jdbc_url(db), "connection.user": "postgres",
        "connection.password": PG_PASSWORD, "mode": "incrementing",
        "incrementing.column.name": "id", "table.whitelist": "items", "topic.prefix": prefix,
        "poll.interval.ms": "300"}})
    assert status == 201, body
    topic = f"{prefix}items"
    rows = deserialize_all(db_broker.bootstrap, topic, registry.url, 10)
    assert rows[0] == {"id": 1, "name": "item1", "price": decimal.Decimal("1.99"),
                       "added": datetime.date(2024, 2, 1),
                       "at": datetime.datetime(2024, 2, 1, 8, 30, tzinfo=datetime.UTC),
                       "small": 1, "blob": bytes([1, 0, 255])}
    client = SchemaRegistryClient({"url": registry.url})
    latest = client.get_latest_version(f"{topic}-value")
    schema = json.loads(latest.schema.schema_str or "")
    assert schema["name"] == "items" and schema["type"] == "record"
    fields = {f["name"]: f["type"] for f in schema["fields"]}
    assert fields["price"]["logicalType"] == "decimal" and fields["price"]["scale"] == 2
    assert fields["added"] == ["null", {"type": "int", "connect.version": 1, "connect.name":
                                        "org.apache.kafka.connect.data.Date", "logicalType": "date"}]
    assert fields["small"] == ["null", {"type": "int", "connect.type": "int16"}]

    # a column added upstream: a new, backward-compatible version of the subject
    with postgres_server.connect(db) as conn:
        conn.execute("ALTER TABLE items ADD COLUMN colour TEXT")
        conn.execute("INSERT INTO items (name, price, at, colour) VALUES ('new', 1, now(), 'red')")
    rows = deserialize_all(db_broker.bootstrap, topic, registry.url, 11)
    assert rows[10]["colour"] == "red" and rows[10]["name"] == "new"
    assert client.get_versions(f"{topic}-value") == [1, 2]

    # records written by confluent-kafka's AvroSerializer land in PostgreSQL through the sink
    orders = f"{db}-orders"
    order_schema = json.dumps({"type": "record", "name": "Order", "fields": [
        {"name": "id", "type": "long"}, {"name": "qty", "type": "int"},
        {"name": "note", "type": ["null", "string"], "default": None}]})
    serializer = AvroSerializer(client, order_schema)
    producer = Producer({"bootstrap.servers": db_broker.bootstrap})
    for i in range(1, 6):
        producer.produce(orders, key=str(i), value=serializer(
            {"id": i, "qty": i * 10, "note": None if i % 2 else f"n{i}"},
            SerializationContext(orders, MessageField.VALUE)))
    producer.flush(10)
    status, body = worker.call("POST", "/connectors", {"name": "pg-avro-sink", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector", "topics": orders,
        "connection.url": postgres_server.jdbc_url(db), "connection.user": "postgres",
        "connection.password": PG_PASSWORD, "auto.create": "true", "insert.mode": "upsert",
        "pk.mode": "record_value", "pk.fields": "id", "table.name.format": "orders"}})
    assert status == 201, body

    def landed() -> list[tuple[object, ...]]:
        try:
            with postgres_server.connect(db) as conn:
                return list(conn.execute("SELECT id, qty, note FROM orders ORDER BY id").fetchall())
        except Exception:
            return []
    wait_until(lambda: len(landed()) == 5, timeout=60, message="orders in PostgreSQL")
    assert landed() == [(1, 10, None), (2, 20, "n2"), (3, 30, None), (4, 40, "n4"), (5, 50, None)]

    # an incompatible schema for the source's subject is refused with Confluent's code
    from confluent_kafka.schema_registry import Schema
    from confluent_kafka.schema_registry.error import SchemaRegistryError
    bad = dict(schema)
    bad["fields"] = [*schema["fields"], {"name": "required_new", "type": "string"}]
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(f"{topic}-value", Schema(json.dumps(bad), "AVRO"))
    assert refused.value.http_status_code == 409 and refused.value.error_code == 409
