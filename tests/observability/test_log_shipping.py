"""Broker logs shipped to object storage (MSK's BrokerLogs): gzipped JSON lines under
KafkaBrokerLogs/<cluster>/<hour>/Broker-<id>_..., to a folder and to a real S3-protocol
server (moto), including the last lines at shutdown; JSON log lines on stderr with
--log-format json."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess, free_port
from tests.support.moto_server import MotoServer
from tests.support.wait import wait_until


def shipped_lines(objects: dict[str, bytes]) -> list[dict]:  # type: ignore[type-arg]
    lines = []
    for body in objects.values():
        lines += [json.loads(line) for line in gzip.decompress(body).decode().splitlines() if line]
    return lines


def _create(broker: BrokerProcess, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(15)


def test_logs_shipped_to_a_folder(tmp_path: Path) -> None:
    target = tmp_path / "shipped"
    broker = BrokerProcess(tmp_path / "data", {"log.shipping.uri": f"file://{target}/",
                                               "log.shipping.interval.ms": "300"}).start()
    try:
        _create(broker, "shipped-topic")

        def objects() -> dict[str, bytes]:
            return {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*.log.gz")}

        wait_until(lambda: any("created topic shipped-topic" in line["message"]
                               for line in shipped_lines(objects())), 30,
                   message="the topic creation line in a shipped object")
        key = next(iter(objects()))
        parts = key.split("/")
        assert parts[0] == "KafkaBrokerLogs" and parts[3].startswith("Broker-1_"), key
        first = shipped_lines(objects())[0]
        assert {"timestamp", "level", "logger", "message"} <= set(first)
    finally:
        broker.stop()
    # The lines logged while stopping are shipped too.
    assert any("broker stopped cleanly" in line["message"] for line in shipped_lines(
        {str(p): p.read_bytes() for p in target.rglob("*.log.gz")}))


def test_logs_shipped_to_s3(tmp_path: Path, moto_server: MotoServer) -> None:
    moto_server.create_bucket("broker-logs")
    options = moto_server.store_options()
    broker = BrokerProcess(tmp_path / "data", {
        "log.shipping.uri": "s3://broker-logs/msk/", "log.shipping.interval.ms": "300",
        "log.shipping.s3.endpoint.url": options["s3.endpoint"],
        "log.shipping.s3.access.key.id": options["aws.access.key.id"],
        "log.shipping.s3.secret.access.key": options["aws.secret.access.key"]}).start()
    s3 = moto_server.s3()
    try:
        _create(broker, "s3-topic")

        def objects() -> dict[str, bytes]:
            listed = s3.list_objects_v2(Bucket="broker-logs", Prefix="msk/KafkaBrokerLogs/")
            return {item["Key"]: s3.get_object(Bucket="broker-logs", Key=item["Key"])["Body"].read()
                    for item in listed.get("Contents", [])}

        wait_until(lambda: any("created topic s3-topic" in line["message"]
                               for line in shipped_lines(objects())), 30,
                   message="the topic creation line in an S3 object")
    finally:
        broker.stop()


def test_json_log_format(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "json.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "fjord.cli.main", "broker", "--log-format", "json",
                                 "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                                 "--override", f"log.dirs={tmp_path / 'data'}"], stdout=out, stderr=out)
        try:
            wait_until(lambda: "listening on" in log.read_text(), 30, message="the broker listening")
        finally:
            proc.terminate()
            proc.wait(30)
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(r["message"].startswith("listening on") and r["level"] == "INFO" and
               r["logger"] == "fjord.broker" for r in records), log.read_text()[-2000:]
    bad = subprocess.run([sys.executable, "-m", "fjord.cli.main", "broker", "--log-format", "xml"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "unknown log format" in bad.stderr
