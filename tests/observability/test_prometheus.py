"""Acceptance: a real Prometheus server (Debian's) scrapes a broker's admin listener and a
Connect worker's REST port; the test reads the results through Prometheus's HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connect.support import STARTED, WorkerProcess
from tests.observability.clients import consume_and_commit, produce
from tests.observability.support import (
    AdminBroker,
    PrometheusProcess,
    admin_broker,
    get,
    promtool_check,
)
from tests.support.wait import wait_until


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AdminBroker, WorkerProcess,
                                                                       PrometheusProcess]]:
    base = tmp_path_factory.mktemp("prometheus")
    broker = admin_broker(base / "data", {"metrics.level": "PER_TOPIC_PER_PARTITION"})
    lines = base / "lines.txt"
    lines.write_text("one\ntwo\nthree\n")
    connector = base / "lines-src.properties"
    connector.write_text(f"name=lines-src\nconnector.class=FileStreamSource\nfile={lines}\ntopic=lines\n")
    sink = base / "lines-sink.properties"
    sink.write_text(f"name=lines-sink\nconnector.class=FileStreamSink\nfile={base / 'out.txt'}\n"
                    "topics=lines\n")
    worker = WorkerProcess(base / "worker", broker.bootstrap, connector_files=[connector, sink])
    prometheus = None
    try:
        worker.start()
        STARTED.remove(worker)
        prometheus = PrometheusProcess(base / "prometheus", {
            "broker": broker.admin_url + "/metrics", "worker": worker.url + "/metrics"}).start()
        yield broker, worker, prometheus
    finally:
        for proc in (prometheus, worker, broker):
            if proc is not None:
                proc.stop()


def _one(prometheus: PrometheusProcess, query: str) -> float | None:
    result = prometheus.query(query)
    return result[0][1] if len(result) == 1 else None


def test_prometheus_scrapes_messages_in_and_consumer_lag(stack: tuple[AdminBroker, WorkerProcess,
                                                                      PrometheusProcess]) -> None:
    broker, _worker, prometheus = stack
    produce(broker.bootstrap, "t", 100)
    consume_and_commit(broker.bootstrap, "g", "t", 40)
    wait_until(lambda: prometheus.targets_up() == {"broker": "up", "worker": "up"}, 60,
               message="both targets up")
    wait_until(lambda: _one(prometheus, 'kafka_server_brokertopicmetrics_messagesin_total{topic="t"}') == 100,
               60, message="messagesin_total{topic=t} == 100 in Prometheus")
    lag = 'kafka_consumergroup_group_lag{group="g",topic="t",partition="0"}'
    wait_until(lambda: _one(prometheus, lag) == 60, 60, message="lag 60 in Prometheus")
    assert _one(prometheus, 'kafka_consumergroup_group_sum_lag{group="g"}') == 60
    assert _one(prometheus, 'kafka_consumergroup_group_max_lag{group="g"}') == 60

    consume_and_commit(broker.bootstrap, "g", "t", 100)
    wait_until(lambda: _one(prometheus, lag) == 0, 60, message="lag 0 in Prometheus")
    assert _one(prometheus, 'kafka_consumergroup_group_sum_lag{group="g"}') == 0


def test_prometheus_scrapes_the_connect_worker(stack: tuple[AdminBroker, WorkerProcess,
                                                            PrometheusProcess]) -> None:
    _broker, _worker, prometheus = stack
    wait_until(lambda: _one(prometheus, "kafka_connect_connect_worker_metrics_connectors") == 2,
               60, message="2 connectors in Prometheus")
    polled = 'kafka_connect_source_task_metrics_source_record_poll_total{connector="lines-src",task="0"}'
    wait_until(lambda: _one(prometheus, polled) == 3, 60, message="3 records polled in Prometheus")
    running = 'kafka_connect_connector_status{connector="lines-src",task="0",status="running"}'
    assert _one(prometheus, running) == 1
    written = 'kafka_connect_source_task_metrics_source_record_write_total{connector="lines-src",task="0"}'
    assert _one(prometheus, written) == 3
    sent = 'kafka_connect_sink_task_metrics_sink_record_send_total{connector="lines-sink",task="0"}'
    wait_until(lambda: _one(prometheus, sent) == 3, 60, message="3 records sent by the sink")
    rate = 'kafka_connect_sink_task_metrics_sink_record_send_rate{connector="lines-sink",task="0"}'
    assert (_one(prometheus, rate) or 0) > 0
    assert _one(prometheus, 'kafka_connect_connect_worker_metrics_connector_running_tasks'
                            '{connector="lines-sink"}') == 1


def test_promtool_accepts_both_endpoints(stack: tuple[AdminBroker, WorkerProcess, PrometheusProcess],
                                         tmp_path: Path) -> None:
    broker, worker, _prometheus = stack
    for url in (broker.admin_url + "/metrics", worker.url + "/metrics"):
        status, content_type, body = get(url)
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4"), (url, content_type)
        promtool_check(body)
    status, content_type, body = get(worker.url + "/metrics", "application/openmetrics-text")
    assert status == 200 and content_type.startswith("application/openmetrics-text")
    assert body.endswith("# EOF\n")
