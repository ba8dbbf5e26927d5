"""The pure parts of observability, without a process: exposition formats, time lag from the
log's own batches, storage alert thresholds."""

from __future__ import annotations

from pathlib import Path

from fjord.observability.alerts import DiskUsage, StorageAlerts
from fjord.observability.exposition import counter, gauge, label_string, render, summary
from fjord.observability.lag import LagCalculator
from fjord.protocol.records import split_batches
from fjord.storage.log import LogConfig, PartitionLog
from tests.support.batches import make_batch


def test_text_and_openmetrics_exposition() -> None:
    messages = counter("kafka_server_brokertopicmetrics_messagesin", "Messages.")
    messages.add(3, (("topic", 'we"ird\\name\n'),))
    latency = summary("kafka_network_requestmetrics_totaltimems", "Time.")
    latency.add(1.5, (("request", "Produce"), ("quantile", "0.50")))
    latency.add(2, (("request", "Produce"),), "_count")
    empty = gauge("nothing", "Never set.")
    text = render([messages, latency, empty]).decode()
    assert "# TYPE kafka_server_brokertopicmetrics_messagesin_total counter" in text
    assert 'kafka_server_brokertopicmetrics_messagesin_total{topic="we\\"ird\\\\name\\n"} 3' in text
    assert 'kafka_network_requestmetrics_totaltimems_count{request="Produce"} 2' in text
    assert "nothing" not in text and not text.endswith("# EOF\n")
    om = render([messages], openmetrics=True).decode()
    assert "# TYPE kafka_server_brokertopicmetrics_messagesin counter" in om and om.endswith("# EOF\n")
    shared = label_string((("topic", "t"), ("partition", "0")))
    size = gauge("kafka_log_log_size", "Bytes.")
    size.add(10, shared)
    assert 'kafka_log_log_size{topic="t",partition="0"} 10' in render([size]).decode()


def _log(tmp_path: Path, stamps: list[list[int]]) -> PartitionLog:
    """One batch per inner list; each record gets its own timestamp."""
    plog = PartitionLog.open(tmp_path / "t-0", "t", 0, LogConfig(), True)
    for batch_stamps in stamps:
        data = make_batch([(None, b"v")] * len(batch_stamps), timestamp=batch_stamps[0])
        headers = split_batches(data)
        plog.append(data, headers, batch_stamps[0])
    return plog


class _At:
    def __init__(self, offset: int) -> None:
        self.offset = offset


def test_time_lag_is_newest_minus_the_record_at_the_committed_offset(tmp_path: Path) -> None:
    minute = 60_000
    # make_batch gives record i the timestamp base + i ms: offsets 0..2 in one batch, 3 alone.
    plog = _log(tmp_path, [[0, 1, 2], [10 * minute]])
    lag = LagCalculator()
    group = lag.group_lag("g", {("t", 0): _At(1)}, lambda _t, _p: plog)
    (row,) = group.partitions
    assert (row.committed, row.end, row.lag) == (1, 4, 3)
    assert row.lag_seconds == (10 * minute - 1) / 1000  # the record at offset 1, inside a batch
    caught_up = lag.group_lag("g", {("t", 0): _At(4)}, lambda _t, _p: plog)
    assert caught_up.partitions[0].lag == 0 and caught_up.max_lag_seconds == 0
    plog.close()


def test_alert_thresholds_raise_once_and_clear() -> None:
    alerts = StorageAlerts([60, 80, 95])
    assert [alerts.severity(t) for t in (60, 80, 95)] == ["warning", "warning", "critical"]

    def at(percent: int) -> list[int]:
        return [a.threshold for a in alerts.evaluate(DiskUsage("/d", 100, 100 - percent))]

    assert at(50) == [] and alerts.alerts() == []
    assert at(70) == [60]
    assert at(72) == []  # already raised: not again
    assert at(85) == [80]
    assert [a.threshold for a in alerts.alerts()] == [60, 80]
    assert at(100) == [95] and alerts.alerts()[-1].severity == "critical"
    assert at(65) == [] and [a.threshold for a in alerts.alerts()] == [60]
    assert at(10) == [] and alerts.alerts() == []
