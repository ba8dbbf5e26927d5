"""/metrics, /health, /ready and /v1 of a real broker process: Kafka's metric names as the
Prometheus JMX exporter's Kafka rules produce them, output promtool accepts, consumer lag
computed in the broker, and monitoring levels deciding which series exist."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer
from kio.schema.errors import ErrorCode

from tests.observability.clients import consume_and_commit, produce
from tests.observability.support import (
    AdminBroker,
    admin_broker,
    get,
    get_json,
    promtool_check,
    samples,
    value,
)
from tests.support.broker import free_port
from tests.support.raw_client import RawClient

# Names the JMX exporter's kafka-2_0_0.yml rules give Kafka's MBeans (lowercased
# kafka_<domain>_<type>_<name>, `_total` for *PerSec meters), the Prometheus process
# collector's names and kafka-lag-exporter's; the broker must keep exposing every one.
KAFKA_NAMES = [
    "kafka_server_brokertopicmetrics_messagesin_total",
    "kafka_server_brokertopicmetrics_bytesin_total",
    "kafka_server_brokertopicmetrics_bytesout_total",
    "kafka_server_brokertopicmetrics_totalproducerequests_total",
    "kafka_server_brokertopicmetrics_failedproducerequests_total",
    "kafka_server_brokertopicmetrics_totalfetchrequests_total",
    "kafka_server_brokertopicmetrics_failedfetchrequests_total",
    "kafka_network_requestmetrics_requests_total",
    "kafka_network_requestmetrics_totaltimems",
    "kafka_network_requestmetrics_totaltimems_count",
    "kafka_network_requestmetrics_requestqueuetimems",
    "kafka_network_requestmetrics_localtimems",
    "kafka_network_requestmetrics_responsesendtimems",
    "kafka_server_socketservermetrics_connections",
    "kafka_log_log_size",
    "kafka_log_log_logstartoffset",
    "kafka_log_log_logendoffset",
    "kafka_log_log_numlogsegments",
    "kafka_server_replicamanager_partitioncount",
    "kafka_server_replicamanager_leadercount",
    "kafka_server_replicamanager_underreplicatedpartitions",
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka_controller_kafkacontroller_globalpartitioncount",
    "kafka_coordinator_group_groupmetadatamanager_numgroups",
    "kafka_coordinator_group_groupmetadatamanager_numgroupsstable",
    "kafka_coordinator_group_groupmetadatamanager_numgroupsempty",
    "kafka_coordinator_group_groupmetadatamanager_numoffsets",
    "kafka_coordinator_transaction_transactionstatemanager_numtransactionalids",
    "kafka_consumergroup_group_lag",
    "kafka_consumergroup_group_lag_seconds",
    "kafka_consumergroup_group_offset",
    "kafka_consumergroup_group_max_lag",
    "kafka_consumergroup_group_max_lag_seconds",
    "kafka_consumergroup_group_sum_lag",
    "kafka_consumergroup_group_topic_sum_lag",
    "kafka_partition_latest_offset",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
    "fjord_log_dir_total_bytes",
    "fjord_log_dir_free_bytes",
    "fjord_log_dir_used_percent",
    "fjord_storage_alert",
]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminBroker]:
    proc = admin_broker(tmp_path_factory.mktemp("metrics") / "data",
                        {"metrics.level": "PER_TOPIC_PER_PARTITION"})
    try:
        now = int(time.time() * 1000)
        # Two records ten minutes apart, then 98 recent ones: a group at offset 0 is ~10 min behind.
        produce(proc.bootstrap, "t", 100, [now - 600_000, *[now] * 99])
        consume_and_commit(proc.bootstrap, "g", "t", 40)
        consume_and_commit(proc.bootstrap, "slow", "t", 0)
        yield proc
    finally:
        proc.stop()


def scrape(broker: AdminBroker, accept: str | None = None) -> str:
    status, _type, body = get(broker.admin_url + "/metrics", accept)
    assert status == 200, body
    return body


def test_every_kafka_name_is_exposed_and_promtool_accepts_it(broker: AdminBroker) -> None:
    text = scrape(broker)
    names = {name for name, _labels, _value in samples(text)}
    missing = [name for name in KAFKA_NAMES if name not in names]
    assert missing == [], f"metric names missing from /metrics: {missing}"
    promtool_check(text)


def test_produce_and_fetch_counters(broker: AdminBroker) -> None:
    text = scrape(broker)
    assert value(text, "kafka_server_brokertopicmetrics_messagesin_total", topic="t") == 100
    assert value(text, "kafka_server_brokertopicmetrics_messagesin_total") == 100
    assert (value(text, "kafka_server_brokertopicmetrics_bytesin_total", topic="t") or 0) > 0
    assert (value(text, "kafka_server_brokertopicmetrics_bytesout_total", topic="t") or 0) > 0
    assert value(text, "kafka_log_log_logendoffset", topic="t", partition="0") == 100
    assert value(text, "kafka_log_log_numlogsegments", topic="t", partition="0") == 1
    produce_requests = [v for n, labels, v in samples(text)
                        if n == "kafka_network_requestmetrics_requests_total"
                        and labels["request"] == "Produce"]
    assert sum(produce_requests) >= 1
    assert (value(text, "kafka_network_requestmetrics_totaltimems_count",
                  request="FetchConsumer") or 0) >= 1


def test_offset_lag_and_time_lag(broker: AdminBroker) -> None:
    text = scrape(broker)
    where = {"cluster_name": _cluster(broker), "group": "g", "topic": "t", "partition": "0"}
    assert value(text, "kafka_consumergroup_group_lag", **where) == 60
    assert value(text, "kafka_consumergroup_group_offset", **where) == 40
    assert value(text, "kafka_consumergroup_group_sum_lag", cluster_name=where["cluster_name"],
                 group="g") == 60
    assert value(text, "kafka_consumergroup_group_lag_seconds", **where) == 0
    slow = {**where, "group": "slow"}
    assert value(text, "kafka_consumergroup_group_lag", **slow) == 100
    seconds = value(text, "kafka_consumergroup_group_lag_seconds", **slow)
    assert seconds is not None and 590 <= seconds <= 610, seconds
    status, body = get_json(broker.admin_url + "/v1/groups/slow")
    assert status == 200 and body["max_lag"] == 100 and 590 <= body["max_lag_seconds"] <= 610


def test_groups_describe_shows_time_lag(broker: AdminBroker) -> None:
    done = subprocess.run([sys.executable, "-m", "fjord.cli.main", "groups", "describe", "--group", "slow",
                           "--bootstrap-server", broker.bootstrap], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    header, *rows = [line.split() for line in done.stdout.splitlines() if line.strip()][-2:]
    assert header[-1] == "TIME-LAG", done.stdout
    seconds = float(rows[0][-1].rstrip("s"))
    assert 590 <= seconds <= 610, done.stdout


def test_quota_sensors(broker: AdminBroker) -> None:
    answer = RawClient(broker).call(49, 1, {"entries": [{
        "entity": [{"entity_type": "client-id", "entity_name": "metered"}],
        "ops": [{"key": "producer_byte_rate", "value": 100_000.0, "remove": False}]}],
        "validate_only": False})
    assert answer.entries[0].error_code == ErrorCode.none
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "metered"})
    for _ in range(30):
        producer.produce("quota-metrics", b"x" * 10_000)
    assert producer.flush(60) == 0
    text = scrape(broker)
    where = {"resource": "Produce", "client_id": "metered"}
    assert (value(text, "kafka_server_quota_byte_rate", **where) or 0) > 0
    assert (value(text, "kafka_server_quota_throttle_time", **where) or 0) > 0
    promtool_check(text)


def test_openmetrics_on_request(broker: AdminBroker) -> None:
    status, content_type, body = get(broker.admin_url + "/metrics",
                                     "application/openmetrics-text; version=1.0.0")
    assert status == 200
    assert content_type.startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")
    assert "# TYPE kafka_server_brokertopicmetrics_messagesin counter" in body


def test_health_ready_and_v1(broker: AdminBroker) -> None:
    url = broker.admin_url
    status, health = get_json(url + "/health")
    assert status == 200 and health["status"] == "UP"
    assert {"retention", "flush", "storage-alerts"} <= set(health["loops"])
    assert not any(loop["broken"] for loop in health["loops"].values())
    status, ready = get_json(url + "/ready")
    assert status == 200 and ready["status"] == "READY"
    status, info = get_json(url + "/v1/broker")
    assert status == 200 and info["metrics_level"] == "PER_TOPIC_PER_PARTITION"
    status, groups = get_json(url + "/v1/groups")
    assert status == 200 and {g["group"]: g["sum_lag"] for g in groups["groups"]} == {"g": 60, "slow": 100}
    assert get_json(url + "/v1/groups/nope")[0] == 404
    assert get(url + "/nope")[0] == 404


def _cluster(broker: AdminBroker) -> str:
    return str(get_json(broker.admin_url + "/v1/broker")[1]["cluster_id"])


def test_default_level_has_no_per_topic_or_partition_series(tmp_path: Path) -> None:
    proc = admin_broker(tmp_path / "data")
    try:
        produce(proc.bootstrap, "t", 10)
        consume_and_commit(proc.bootstrap, "g", "t", 4)
        text = scrape(proc)
        with_partition = [(n, labels) for n, labels, _v in samples(text) if "partition" in labels]
        assert with_partition == []
        assert not any("topic" in labels for n, labels, _v in samples(text)
                       if n.startswith("kafka_server_brokertopicmetrics"))
        assert value(text, "kafka_server_brokertopicmetrics_messagesin_total") == 10
        assert value(text, "kafka_consumergroup_group_sum_lag", cluster_name=_cluster(proc), group="g") == 6
        promtool_check(text)
    finally:
        proc.stop()


def test_bad_admin_listener_is_one_line(tmp_path: Path) -> None:
    def start(value: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "fjord.cli.main", "broker",
                               "--override", f"listeners=PLAINTEXT://127.0.0.1:{free_port()}",
                               "--override", f"log.dirs={tmp_path / 'data'}",
                               "--override", f"admin.listener={value}"],
                              capture_output=True, text=True, timeout=120)

    bad = start("ftp://127.0.0.1:1")
    assert bad.returncode == 2
    assert "Invalid value 'ftp://127.0.0.1:1' for configuration admin.listener" in bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = start(f"http://127.0.0.1:{taken.getsockname()[1]}")
    assert busy.returncode == 1 and "admin.listener" in busy.stderr, busy.stderr[-2000:]
