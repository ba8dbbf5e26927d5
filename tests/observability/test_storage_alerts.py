"""Storage alerts on a real, small tmpfs log dir: past 60 % and past 80 % raise two alerts —
a log line each, the fjord_storage_alert series and /v1/alerts; and CKafka's dynamic
retention, when enabled, shortens the biggest topic's retention until the disk has room."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic, ResourceType

from tests.observability.support import AdminBroker, get, get_json, value
from tests.support.tmpfs import small_tmpfs
from tests.support.wait import wait_until

RECORD = b"x" * 10_000


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_tmpfs(tmp_path / "disk", "4m") as mount:
        yield mount


def used_percent(path: Path) -> float:
    stat = os.statvfs(path)
    used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    return 100.0 * used / (used + stat.f_bavail * stat.f_frsize)


def fill_to(broker: AdminBroker, mount: Path, percent: float, timestamp: int | None = None) -> None:
    """Produce 10 kB records until the tmpfs is `percent` used."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    while used_percent(mount) < percent:
        for _ in range(10):
            if timestamp:
                producer.produce("fill", RECORD, timestamp=timestamp)
            else:
                producer.produce("fill", RECORD)
        assert producer.flush(30) == 0


def start(mount: Path, **overrides: str) -> AdminBroker:
    broker = AdminBroker(mount / "logs", {"storage.alert.check.interval.ms": "200",
                                          "log.segment.bytes": "262144", **overrides})
    broker.log_path = mount.parent / "broker.log"
    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fill", 1, 1)])["fill"].result(15)
    return broker


def alerts(broker: AdminBroker) -> list[int]:
    status, body = get_json(broker.admin_url + "/v1/alerts")
    assert status == 200
    return [alert["threshold_percent"] for alert in body["alerts"]]


def test_alerts_at_60_and_80_percent(small_disk: Path) -> None:
    broker = start(small_disk)
    try:
        assert alerts(broker) == []
        fill_to(broker, small_disk, 62)
        wait_until(lambda: alerts(broker) == [60], 30, message="the 60 % alert alone")
        fill_to(broker, small_disk, 82)
        wait_until(lambda: alerts(broker) == [60, 80], 30, message="the 60 % and 80 % alerts")
        _status, body = get_json(broker.admin_url + "/v1/alerts")
        assert {a["severity"] for a in body["alerts"]} == {"WARNING"}
        assert all(a["used_percent"] >= 80 for a in body["alerts"])
        text = get(broker.admin_url + "/metrics")[2]
        labels = {"log_dir": str(small_disk / "logs"), "severity": "warning"}
        assert value(text, "fjord_storage_alert", threshold="60", **labels) == 1
        assert value(text, "fjord_storage_alert", threshold="80", **labels) == 1
        assert value(text, "fjord_storage_alert", threshold="95", log_dir=labels["log_dir"],
                     severity="critical") == 0
        assert (value(text, "fjord_log_dir_used_percent", log_dir=labels["log_dir"]) or 0) >= 80
        log = broker.log_path.read_text()
        assert "storage alert WARNING: log dir" in log and "is over 60 % used" in log
        assert "is over 80 % used" in log
        assert broker.alive()
    finally:
        broker.stop()


@pytest.mark.filterwarnings("ignore:alter_configs has been deprecated")  # the legacy API, on purpose
def test_dynamic_retention_makes_room(small_disk: Path) -> None:
    broker = start(small_disk, **{"storage.dynamic.retention.enable": "true",
                                  "storage.dynamic.retention.threshold.percent": "70",
                                  "storage.dynamic.retention.step.percent": "50",
                                  "storage.dynamic.retention.floor.ms": "60000"})
    try:
        ten_hours_ago = int(time.time() * 1000) - 10 * 3_600_000
        broker_admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        # Fill with old records first, with the action off (it is a dynamic config).
        resource = ConfigResource(ResourceType.BROKER, "1", set_config={
            "storage.dynamic.retention.enable": "false"})
        broker_admin.alter_configs([resource])[resource].result(15)
        fill_to(broker, small_disk, 75, ten_hours_ago)
        resource = ConfigResource(ResourceType.BROKER, "1", set_config={
            "storage.dynamic.retention.enable": "true", "storage.dynamic.retention.threshold.percent": "70",
            "storage.dynamic.retention.step.percent": "50",
            "storage.dynamic.retention.floor.ms": "60000"})
        broker_admin.alter_configs([resource])[resource].result(15)
        wait_until(lambda: used_percent(small_disk) < 70, 60, message="the disk below 70 % again")
        topic = ConfigResource(ResourceType.TOPIC, "fill")
        retention = int(broker_admin.describe_configs([topic])[topic].result(15)["retention.ms"].value)
        assert 60_000 <= retention <= 10 * 3_600_000
        assert "dynamic retention: log dir" in broker.log_path.read_text()
        assert broker.alive()
    finally:
        broker.stop()
