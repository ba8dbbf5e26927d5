"""Error handling: DLQ with context headers under errors.tolerance=all; FAILED with the reason
under none; invalid configs refused with the failing keys named; the worker survives all of it."""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import Consumer, Producer

from tests.connect.support import WorkerProcess, read_lines, wait_until
from tests.support import messages
from tests.support.broker import BrokerProcess


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for index, value in enumerate(values):
        producer.produce(topic, key=f"k{index}".encode(), value=value)
    assert producer.flush(15) == 0


def sink_config(topic: str, out: Path, **extra: str) -> dict[str, str]:
    return {"connector.class": "FileStreamSink", "file": str(out), "topics": topic,
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false", **extra}


def test_bad_record_goes_to_dlq_with_context_headers(connect_broker: BrokerProcess,
                                                     standalone_worker: WorkerProcess,
                                                     files: Path) -> None:
    out = files / "dlq-out.txt"
    produce(connect_broker.bootstrap, "orders", [b'{"id": 1}', b"not json at all", b'{"id": 3}'])
    status, body = standalone_worker.call("POST", "/connectors", {"name": "dlq-sink", "config": sink_config(
        "orders", out, **{"errors.tolerance": "all", "errors.log.enable": "true",
                          "errors.deadletterqueue.topic.name": "orders-dlq",
                          "errors.deadletterqueue.topic.replication.factor": "1",
                          "errors.deadletterqueue.context.headers.enable": "true"})})
    assert status == 201, body
    wait_until(lambda: len(read_lines(out)) == 2, message="the two good records")
    assert "1" in read_lines(out)[0] and "3" in read_lines(out)[1]

    consumer = Consumer({"bootstrap.servers": connect_broker.bootstrap, "group.id": "dlq-check",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe(["orders-dlq"])
    message = None
    for _ in range(60):
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            break
    consumer.close()
    assert message is not None and message.error() is None
    assert message.value() == b"not json at all" and message.key() == b"k1"
    headers = {k: (v or b"").decode() for k, v in messages.headers(message)}
    assert headers["__connect.errors.topic"] == "orders"
    assert headers["__connect.errors.partition"] == "0"
    assert headers["__connect.errors.offset"] == "1"
    assert headers["__connect.errors.connector.name"] == "dlq-sink"
    assert headers["__connect.errors.task.id"] == "0"
    assert headers["__connect.errors.stage"] == "VALUE_CONVERTER"
    assert headers["__connect.errors.class.name"] == "JsonConverter"
    assert "DataException" in headers["__connect.errors.exception.class.name"]
    assert "serialization error" in headers["__connect.errors.exception.message"]
    assert "Traceback" in headers["__connect.errors.exception.stacktrace"]
    status, state = standalone_worker.call("GET", "/connectors/dlq-sink/status")
    assert state["tasks"][0]["state"] == "RUNNING"
    assert standalone_worker.call("DELETE", "/connectors/dlq-sink")[0] == 204


def test_bad_record_fails_task_with_reason_when_tolerance_none(connect_broker: BrokerProcess,
                                                               standalone_worker: WorkerProcess,
                                                               files: Path) -> None:
    out = files / "strict-out.txt"
    produce(connect_broker.bootstrap, "strict", [b'{"id": 1}', b"{broken", b'{"id": 3}'])
    status, _ = standalone_worker.call("POST", "/connectors", {
        "name": "strict-sink", "config": sink_config("strict", out)})
    assert status == 201

    def failed() -> dict[str, object] | None:
        body = standalone_worker.call("GET", "/connectors/strict-sink/tasks/0/status")[1]
        return body if body["state"] == "FAILED" else None

    task = wait_until(failed, message="task FAILED")
    trace = str(task["trace"])
    assert "Tolerance exceeded in error handler" in trace
    assert "DataException" in trace and "serialization error" in trace
    # the batch with the bad record is refused before put, so nothing after it is written
    assert read_lines(out) in ([], ["{'id': 1}"])
    # the worker is still up and serves other connectors
    assert standalone_worker.call("GET", "/connectors/strict-sink/status")[1]["connector"][
        "state"] == "RUNNING"
    status, plan = standalone_worker.call("POST", "/connectors/strict-sink/restart"
                                          "?includeTasks=true&onlyFailed=true")
    assert status == 202 and plan["connector"]["state"] == "RUNNING"
    assert plan["tasks"][0]["state"] == "RESTARTING"
    assert standalone_worker.call("DELETE", "/connectors/strict-sink")[0] == 204


def test_invalid_configs_are_refused_with_keys_named(standalone_worker: WorkerProcess) -> None:
    status, body = standalone_worker.call("POST", "/connectors", {"name": "broken", "config": {
        "connector.class": "FileStreamSink", "errors.tolerance": "some"}})
    assert status == 400 and body["error_code"] == 400
    assert "contains the following 3 error(s)" in body["message"]
    assert "errors.tolerance" in body["message"] and "topics" in body["message"]
    status, body = standalone_worker.call("POST", "/connectors", {"name": "nope", "config": {
        "connector.class": "com.example.DoesNotExist"}})
    assert status == 400 and "DoesNotExist" in body["message"]
    status, body = standalone_worker.call(
        "PUT", "/connector-plugins/FileStreamSinkConnector/config/validate",
        {"connector.class": "FileStreamSinkConnector", "topics": "a", "topics.regex": "b.*"})
    assert status == 200 and body["error_count"] == 2
    assert body["name"] == "org.apache.kafka.connect.file.FileStreamSinkConnector"
    status, keys = standalone_worker.call("GET", "/connector-plugins/FileStreamSource/config")
    names = [k["name"] for k in keys]  # the connector's keys, then the framework's (Kafka 4.1)
    assert status == 200 and set(names[:3]) == {"file", "topic", "batch.size"}
    assert {"connector.class", "tasks.max", "transforms"} <= set(names[3:])
    assert standalone_worker.call("GET", "/connectors")[1] == []
    status, body = standalone_worker.call("GET", "/health")
    assert status == 200 and body["status"] == "healthy"
    status, body = standalone_worker.call("PUT", "/connectors/missing/pause")
    assert status == 404 and body == {"error_code": 404, "message": "Connector missing not found"}
    assert json.dumps(standalone_worker.call("GET", "/admin/loggers")[1]["root"])


def test_health_says_when_kafka_is_unreachable(tmp_path: Path) -> None:
    from tests.support.broker import free_port
    dead = f"127.0.0.1:{free_port()}"
    worker = WorkerProcess(tmp_path / "lonely", dead).start()
    try:
        status, body = worker.call("GET", "/health")
        assert status == 503 and body["status"] == "unhealthy"
        assert dead in body["message"]
    finally:
        worker.stop()
