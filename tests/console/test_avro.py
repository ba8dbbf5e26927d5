"""Avro values in Confluent's wire format render as JSON in the message browser, with the writer
schema read from a real `fjord schema-registry` by id."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import fastavro
import httpx
from confluent_kafka import Producer

from tests.control.support import ControlProcess
from tests.support.broker import BrokerProcess
from tests.support.schema_registry import RegistryProcess

SCHEMA = {"type": "record", "name": "Payment", "fields": [
    {"name": "id", "type": "long"}, {"name": "currency", "type": "string"}]}


def test_avro_values_render_as_json(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "kafka").start()
    registry = RegistryProcess(tmp_path / "registry", broker.bootstrap).start()
    control = ControlProcess(tmp_path / "control",
                             extra=["--register", f"avro={broker.bootstrap};;;{registry.url}"]).start()
    try:
        response = httpx.post(f"{registry.url}/subjects/payments-value/versions",
                              json={"schema": json.dumps(SCHEMA)}, timeout=30)
        assert response.status_code == 200, response.text
        schema_id = response.json()["id"]
        body = io.BytesIO()
        fastavro.schemaless_writer(body, fastavro.parse_schema(SCHEMA), {"id": 42, "currency": "NOK"})
        producer = Producer({"bootstrap.servers": broker.bootstrap})
        producer.produce("payments", value=b"\x00" + struct.pack(">I", schema_id) + body.getvalue())
        producer.produce("payments", value=b"plain text")
        assert producer.flush(30) == 0

        arn = httpx.get(control.url + "/v1/clusters").json()["clusterInfoList"][0]["clusterArn"]
        cid = arn.rsplit("/", 1)[-1]
        page = httpx.get(f"{control.url}/console/c/{cid}/topics/payments/messages",
                         params={"format": "avro", "offset": "0"}, timeout=60).text
        assert "&#34;currency&#34;: &#34;NOK&#34;" in page and "&#34;id&#34;: 42" in page
        assert "not in Confluent&#39;s wire format" in page  # the plain record says why
    finally:
        control.stop()
        registry.stop()
        broker.stop()
