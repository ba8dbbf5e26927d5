"""SinkTask contract through a real worker: RetriableException redelivers the same batch, the
errant record reporter sends a record to the DLQ, failing records are logged when asked."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from confluent_kafka import Consumer, Message, Producer

from tests.connect.support import WorkerProcess, read_lines, wait_until
from tests.support import messages
from tests.support.broker import BrokerProcess

PLUGIN = '''
import json
from fjord.connect.api import RetriableException, SinkConnector, SinkTask
from fjord.connect.config_def import ConfigDef, Importance, Type

CONFIG = ConfigDef().define("out", Type.STRING, importance=Importance.HIGH)


class PickySink(SinkConnector):
    def version(self): return "0.1"
    def start(self, props): self.props = dict(props)
    def task_class(self): return PickyTask
    def task_configs(self, max_tasks): return [dict(self.props)]
    def stop(self): pass
    def config(self): return CONFIG


class PickyTask(SinkTask):
    def version(self): return "0.1"
    def start(self, props):
        self.out = open(props["out"], "a")
        self.failures_left = 2
        self.empty_puts = 0
        self.reporter = self.context.errant_record_reporter()
    def put(self, records):
        if not records:
            self.empty_puts += 1
            return
        if self.failures_left:
            self.failures_left -= 1
            raise RetriableException("store busy, try again")
        for record in records:
            if record.value == "bad":
                self.reporter.report(record, ValueError("bad value"))
                continue
            self.out.write(json.dumps({"v": record.value, "offset": record.kafka_offset,
                                       "empty_puts_so_far": self.empty_puts > 0}) + "\\n")
        self.out.flush()
    def stop(self):
        self.out.close()
'''


def test_retriable_put_and_errant_reporter(connect_broker: BrokerProcess, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "picky_sink.py").write_text(textwrap.dedent(PLUGIN))
    producer = Producer({"bootstrap.servers": connect_broker.bootstrap})
    for value in (b"a", b"bad", b"c"):
        producer.produce("picky", value=value)
    assert producer.flush(15) == 0
    out = tmp_path / "picky.jsonl"
    worker = WorkerProcess(tmp_path / "w", connect_broker.bootstrap,
                           props={"plugin.path": str(plugins)}).start()
    try:
        status, body = worker.call("POST", "/connectors", {"name": "picky", "config": {
            "connector.class": "PickySink", "topics": "picky", "out": str(out),
            "errors.tolerance": "all", "errors.log.enable": "true",
            "errors.log.include.messages": "true",
            "errors.deadletterqueue.topic.name": "picky-dlq",
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true"}})
        assert status == 201, body
        wait_until(lambda: len(read_lines(out)) == 2, message="good records after two retries")
        written = [json.loads(line) for line in read_lines(out)]
        assert [(w["v"], w["offset"]) for w in written] == [("a", 0), ("c", 2)]
        consumer = Consumer({"bootstrap.servers": connect_broker.bootstrap, "group.id": "pd",
                             "auto.offset.reset": "earliest"})
        consumer.subscribe(["picky-dlq"])
        found: list[Message] = []

        def poll() -> bool:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                found.append(message)
            return bool(found)
        try:
            wait_until(poll, interval=0, message="errant record in the DLQ")
        finally:
            consumer.close()
        message = found[0]
        headers = {k: (v or b"").decode() for k, v in messages.headers(message)}
        assert message.value() == b"bad"
        assert headers["__connect.errors.stage"] == "TASK_PUT"
        assert headers["__connect.errors.offset"] == "1"
        assert headers["__connect.errors.exception.message"] == "bad value"
        assert "store busy, try again" in worker.log_path.read_text()
        assert "record: SinkRecord(topic='picky', kafka_partition=0" in worker.log_path.read_text()
        assert worker.call("GET", "/connectors/picky/status")[1]["tasks"][0]["state"] == "RUNNING"
    finally:
        worker.stop()
