"""A Connect worker's /metrics: Kafka Connect's worker, connector and task metrics under
the names the Prometheus JMX exporter gives their MBeans with its default naming
(`kafka_connect_<type>_<attribute>`, e.g. `kafka.connect:type=connect-worker-metrics`
`connector-count` -> `kafka_connect_connect_worker_metrics_connector_count`), and task
status as the exporter's example Connect rules expose it (`kafka_connect_connector_status`).

Task threads bump plain ints on their own TaskCounters (one writer per object; CPython
makes each `+=` of an int attribute safe enough for a monotonic counter read by the
scrape); the rates Kafka reports are computed at scrape time over a sliding window.

Where Kafka's attribute names break Prometheus's naming rules (`promtool check metrics`
refuses a gauge ending in `_count`, a non-counter ending in `_total` and units like `_ms`),
the name is the nearest lawful one: `connector-count` -> `..._connectors`,
`connector-running-task-count` -> `..._connector_running_tasks`, `*-total` are counters
(same sample names), `offset-commit-avg-time-ms` -> `..._offset_commit_avg_time_seconds`.
docs/observability.md lists them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from fjord.observability.backup_metrics import BACKUP_RUNS
from fjord.observability.exposition import (
    OPENMETRICS_TYPE,
    TEXT_TYPE,
    Family,
    counter,
    gauge,
    render,
    wants_openmetrics,
)
from fjord.observability.process import process_families

RATE_WINDOW_S = 60.0  # Kafka's rates: 2 samples of 30 s


class TaskCounters:
    """What one Connect task counts while it runs (source and sink use their own half)."""

    def __init__(self, sink: bool) -> None:
        self.sink = sink
        self.started = time.monotonic()
        self.source_polled = 0
        self.source_written = 0
        self.sink_read = 0
        self.sink_sent = 0
        self.commit_success = 0
        self.commit_failure = 0
        self.commit_skipped = 0
        self.commit_time_sum_ms = 0.0
        self.commit_time_max_ms = 0.0
        self.batches = 0
        self.batch_records = 0
        self.batch_max = 0

    def batch(self, size: int) -> None:
        self.batches += 1
        self.batch_records += size
        self.batch_max = max(self.batch_max, size)

    def committed(self, ok: bool, elapsed_ms: float) -> None:
        if ok:
            self.commit_success += 1
        else:
            self.commit_failure += 1
        self.commit_time_sum_ms += elapsed_ms
        self.commit_time_max_ms = max(self.commit_time_max_ms, elapsed_ms)


class RateWindow:
    """Per-second rates of monotonic totals over the last RATE_WINDOW_S, from the totals
    seen at each scrape (and at the task's start)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, ...], deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def rate(self, key: tuple[str, ...], total: int, started: float) -> float:
        now = time.monotonic()
        with self._lock:
            history = self._seen.setdefault(key, deque([(started, 0)]))
            while len(history) > 1 and now - history[1][0] >= RATE_WINDOW_S:
                history.popleft()
            then, before = history[0]
            history.append((now, total))
        elapsed = now - then
        return (total - before) / elapsed if elapsed > 0 else 0.0


_RATES = RateWindow()


def _name(kind: str, attribute: str) -> str:
    return f"kafka_connect_{kind.replace('-', '_')}_{attribute.replace('-', '_')}"


class _Families:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}

    def add(self, kind: str, attribute: str, help_text: str, value: float,
            labels: tuple[tuple[str, str], ...] = ()) -> None:
        name = _name(kind, attribute)
        is_counter = name.endswith("_total")
        if is_counter:
            name = name[: -len("_total")]
        family = self.families.get(name)
        if family is None:
            family = self.families[name] = (counter if is_counter else gauge)(name, help_text)
        family.add(value, labels)


def connect_families(worker: Any, statuses: Iterable[tuple[str, str, list[tuple[int, str]]]]) -> list[Family]:
    """`worker` is the Connect Worker (its connectors and task threads); `statuses` is
    (connector, connector state, [(task id, task state)]) of what this worker's herder knows."""
    out = _Families()
    statuses = list(statuses)
    tasks = dict(worker.tasks)
    out.add("connect-worker-metrics", "connectors", "Connectors run by this worker (connector-count).",
            len(worker.connectors))
    out.add("connect-worker-metrics", "tasks", "Tasks run by this worker (task-count).", len(tasks))
    task_status = gauge("kafka_connect_connector_status", "1 for the state each task is in.")
    connector_status = gauge("kafka_connect_connector_metrics_status",
                             "1 for the state each connector is in.")
    for connector, state, task_states in statuses:
        labels = (("connector", connector),)
        connector_status.add(1, (*labels, ("status", state.lower())))
        for state_name in ("running", "paused", "failed", "unassigned", "restarting", "destroyed"):
            out.add("connect-worker-metrics", f"connector-{state_name}-tasks",
                    f"Tasks of a connector in state {state_name.upper()} "
                    f"(connector-{state_name}-task-count).",
                    sum(1 for _i, s in task_states if s.lower() == state_name), labels)
        out.add("connect-worker-metrics", "connector-tasks",
                "Tasks of a connector (connector-total-task-count).", len(task_states), labels)
        for task_id, task_state in task_states:
            task_status.add(1, (*labels, ("task", str(task_id)), ("status", task_state.lower())))
    for task_id, runner in sorted(tasks.items(), key=lambda item: str(item[0])):
        counters: TaskCounters | None = getattr(runner, "metrics", None)
        if counters is None:
            continue
        where: tuple[tuple[str, str], ...] = (("connector", str(task_id.connector)),
                                              ("task", str(task_id.task)))
        key = (str(task_id.connector), str(task_id.task))
        commits = counters.commit_success + counters.commit_failure
        kind = "connector-task-metrics"
        out.add(kind, "offset-commit-success-percentage", "Share of offset commits that succeeded.",
                counters.commit_success / commits if commits else 0.0, where)
        out.add(kind, "offset-commit-failure-percentage", "Share of offset commits that failed.",
                counters.commit_failure / commits if commits else 0.0, where)
        out.add(kind, "offset-commit-avg-time-seconds", "Average time of an offset commit "
                "(offset-commit-avg-time-ms / 1000).",
                counters.commit_time_sum_ms / commits / 1000 if commits else 0.0, where)
        out.add(kind, "offset-commit-max-time-seconds", "Longest offset commit "
                "(offset-commit-max-time-ms / 1000).", counters.commit_time_max_ms / 1000, where)
        out.add(kind, "batch-size-avg", "Average records per batch.",
                counters.batch_records / counters.batches if counters.batches else 0.0, where)
        out.add(kind, "batch-size-max", "Largest batch of records.", counters.batch_max, where)
        if counters.sink:
            kind = "sink-task-metrics"
            for attribute, total in (("sink-record-read", counters.sink_read),
                                     ("sink-record-send", counters.sink_sent)):
                out.add(kind, f"{attribute}-total", f"Records ({attribute}).", total, where)
                out.add(kind, f"{attribute}-rate", f"Records per second ({attribute}).",
                        round(_RATES.rate((*key, attribute), total, counters.started), 3), where)
            out.add(kind, "offset-commit-completion-total", "Offset commits completed.",
                    counters.commit_success, where)
            out.add(kind, "offset-commit-skip-total", "Offset commits skipped (nothing new).",
                    counters.commit_skipped, where)
        else:
            kind = "source-task-metrics"
            for attribute, total in (("source-record-poll", counters.source_polled),
                                     ("source-record-write", counters.source_written)):
                out.add(kind, f"{attribute}-total", f"Records ({attribute}).", total, where)
                out.add(kind, f"{attribute}-rate", f"Records per second ({attribute}).",
                        round(_RATES.rate((*key, attribute), total, counters.started), 3), where)
    return [*out.families.values(), task_status, connector_status, *BACKUP_RUNS.families(),
            *process_families()]


def worker_statuses(herder: Any) -> list[tuple[str, str, list[tuple[int, str]]]]:
    """(connector, state, [(task, state)]) of the connectors with a part on this worker."""
    worker = herder.worker
    here = set(worker.connectors) | {task.connector for task in list(worker.tasks)}
    result = []
    for name in herder.connectors():
        if name not in here:
            continue
        try:
            status = herder.connector_status(name)
        except Exception:  # deleted between the two calls
            continue
        result.append((name, str(status["connector"]["state"]),
                       [(int(t["id"]), str(t["state"])) for t in status["tasks"]]))
    return result


def render_worker(herder: Any, accept: str | None) -> tuple[bytes, str]:
    """The body and content type of a Connect worker's /metrics."""
    openmetrics = wants_openmetrics(accept)
    families = connect_families(herder.worker, worker_statuses(herder))
    return render(families, openmetrics), OPENMETRICS_TYPE if openmetrics else TEXT_TYPE
