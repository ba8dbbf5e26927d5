"""Fjord's schema registry driven by confluent-kafka's own SchemaRegistryClient and by plain HTTP:
Confluent's paths, bodies and error codes; BACKWARD by default; state kept in `_schemas`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from tests.connect.support import http
from tests.connectors.support import read_topic
from tests.support.broker import BrokerProcess
from tests.support.schema_registry import RegistryProcess

V1 = {"type": "record", "name": "User", "namespace": "shop",
      "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}]}
V2_OK = {**V1, "fields": [*V1["fields"], {"name": "email", "type": ["null", "string"],
                                           "default": None}]}
V2_BAD = {**V1, "fields": [*V1["fields"], {"name": "age", "type": "int"}]}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    b = BrokerProcess(tmp_path_factory.mktemp("sr-broker") / "data").start()
    yield b
    b.stop()


@pytest.fixture(scope="module")
def registry(broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RegistryProcess]:
    r = RegistryProcess(tmp_path_factory.mktemp("sr"), broker.bootstrap).start()
    yield r
    r.stop()


def test_register_read_evolve_and_refuse(registry: RegistryProcess, broker: BrokerProcess) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    first = client.register_schema("users-value", Schema(json.dumps(V1), "AVRO"))
    again = client.register_schema("users-value", Schema(json.dumps(V1), "AVRO"))
    assert first == again
    fetched = client.get_schema(first)
    assert json.loads(fetched.schema_str or "") == V1
    # BACKWARD is the default: a new optional field is fine, a new required one is refused
    assert client.get_compatibility() == "BACKWARD"
    assert client.test_compatibility("users-value", Schema(json.dumps(V2_OK), "AVRO"))
    assert not client.test_compatibility("users-value", Schema(json.dumps(V2_BAD), "AVRO"))
    second = client.register_schema("users-value", Schema(json.dumps(V2_OK), "AVRO"))
    assert second != first
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema("users-value", Schema(json.dumps(V2_BAD), "AVRO"))
    assert refused.value.http_status_code == 409 and refused.value.error_code == 409
    assert "READER_FIELD_MISSING_DEFAULT_VALUE" in refused.value.error_message
    latest = client.get_latest_version("users-value")
    assert (latest.version, latest.schema_id) == (2, second)
    assert client.get_versions("users-value") == [1, 2]
    assert client.lookup_schema("users-value", Schema(json.dumps(V1), "AVRO")).version == 1
    # the same schema under another subject keeps its id
    assert client.register_schema("other-value", Schema(json.dumps(V1), "AVRO")) == first
    assert sorted(client.get_subjects()) == ["other-value", "users-value"]
    # NONE lets the incompatible schema in for that subject only
    client.set_compatibility("users-value", "NONE")
    assert client.get_compatibility("users-value") == "NONE"
    client.register_schema("users-value", Schema(json.dumps(V2_BAD), "AVRO"))
    assert client.get_versions("users-value") == [1, 2, 3]

    # Confluent's error codes over plain HTTP
    assert http("GET", registry.url + "/subjects/nope/versions") == (
        404, {"error_code": 40401, "message": "Subject 'nope' not found."})
    assert http("GET", registry.url + "/subjects/users-value/versions/9")[1]["error_code"] == 40402
    assert http("GET", registry.url + "/schemas/ids/999")[1]["error_code"] == 40403
    status, body = http("POST", registry.url + "/subjects/x-value/versions",
                        {"schema": '{"type": "record", "name": "X", "fields": [{"name": "a"}]}'})
    assert (status, body["error_code"]) == (422, 42201), body
    status, body = http("PUT", registry.url + "/config", {"compatibility": "SIDEWAYS"})
    assert (status, body["error_code"]) == (422, 42203)
    assert http("GET", registry.url + "/subjects/users-value/versions/0")[1]["error_code"] == 42202

    # deletes: soft, then permanent; a permanent delete first needs a soft one
    assert http("DELETE", registry.url + "/subjects/other-value?permanent=true")[1][
        "error_code"] == 40405
    assert client.delete_subject("other-value") == [1]
    assert client.get_subjects() == ["users-value"]
    assert client.delete_subject("other-value", permanent=True) == [1]

    # the store is the `_schemas` topic, in Confluent's record format
    records = read_topic(broker.bootstrap, "_schemas", expect=5)
    keys = [json.loads(k or b"{}") for k, _ in records]
    assert {"keytype": "SCHEMA", "subject": "users-value", "version": 1, "magic": 1} in keys
    value = json.loads(next(v for k, v in records if json.loads(k or b"{}").get("version") == 2
                            and json.loads(k or b"{}").get("subject") == "users-value") or b"")
    assert value == {"subject": "users-value", "version": 2, "id": second,
                     "schema": json.dumps(V2_OK, separators=(",", ":")), "deleted": False}

    # a restarted registry serves the same ids from the topic
    registry.restart()
    fresh = SchemaRegistryClient({"url": registry.url})
    assert fresh.get_versions("users-value") == [1, 2, 3]
    assert json.loads(fresh.get_schema(second).schema_str or "") == V2_OK
    assert fresh.get_compatibility("users-value") == "NONE"
    assert fresh.get_subjects() == ["users-value"]
