"""Run history of a backup rule, kept in the bucket beside the data.

Each run of each task leaves one small JSON object at
`<prefix>_fjord/runs/<rule>/<YYYY-MM-DD>/<start ms, 13 digits>-task<N>-<run>.json`. Keeping it in
the store (not in the worker) means the history survives the worker, a rule deleted and
created again, and moving the bucket; anyone who can read the backup can read its history,
and `fjord backup describe` reads it with the rule's own store settings. Days are folders so
`describe` finds the latest runs without listing months of them. A run that failed because
the store was down cannot be written then; it is kept and written with the next run.
"""

from __future__ import annotations

import builtins
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fjord.connectors.objectstore.naming import run_log_prefix
from fjord.objectstore.store import ObjectStore, StoreError
from fjord.observability.backup_metrics import BACKUP_RUNS

log = logging.getLogger("fjord.backup.runs")

OK = "ok"
FAILED = "failed"


@dataclass
class RunRecord:
    rule: str
    task: int
    started_ms: int
    finished_ms: int = 0
    status: str = OK
    trigger: str = "schedule"  # schedule | flush | close
    records: int = 0
    bytes: int = 0
    objects: int = 0
    errors: list[str] = field(default_factory=list)
    # "topic-partition" -> [first offset, last offset] written by this run
    ranges: dict[str, list[int]] = field(default_factory=dict)
    sequence: int = 0  # runs of one task, counted from its start (flushes can share a millisecond)

    def to_json(self) -> builtins.bytes:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True).encode()

    @staticmethod
    def from_json(data: builtins.bytes) -> RunRecord:
        doc: dict[str, Any] = json.loads(data)
        return RunRecord(**{k: v for k, v in doc.items() if k in RunRecord.__dataclass_fields__})


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def run_key(prefix: str, run: RunRecord) -> str:
    day = _day(run.started_ms)
    return (f"{run_log_prefix(prefix, run.rule)}{day}/"
            f"{run.started_ms:013d}-task{run.task}-{run.sequence:06d}.json")


class RunLog:
    """Writes a task's runs; holds the ones the store refused until it takes them."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix
        self.pending: list[RunRecord] = []
        self.sequence = 0

    def record(self, run: RunRecord) -> None:
        BACKUP_RUNS.observe(run.rule, run.task, run.status == OK, run.records, run.bytes, run.objects,
                            run.started_ms, run.finished_ms)
        self.sequence += 1
        run.sequence = self.sequence
        self.pending.append(run)
        while self.pending:
            head = self.pending[0]
            try:
                self.store.put(run_key(self.prefix, head), head.to_json())
            except StoreError as exc:
                log.warning("run history for %s not written yet (%s); kept for the next run",
                            head.rule, exc)
                del self.pending[:-1000]  # a long outage keeps the latest 1000, not all
                return
            self.pending.pop(0)


def read_runs(store: ObjectStore, prefix: str, rule: str, limit: int = 20,
              max_days: int = 400) -> list[RunRecord]:
    """The latest `limit` runs of a rule, oldest first, walking back day by day."""
    base = run_log_prefix(prefix, rule)
    days = sorted({info.key[len(base):].split("/", 1)[0] for info in _list_days(store, base)},
                  reverse=True)
    runs: list[RunRecord] = []
    oldest = (datetime.now(UTC) - timedelta(days=max_days)).strftime("%Y-%m-%d")
    for day in days:
        if day < oldest:
            break
        keys = [info.key for info in store.list(f"{base}{day}/")]
        for key in reversed(keys):
            try:
                runs.append(RunRecord.from_json(store.get(key)))
            except (StoreError, ValueError, TypeError):
                continue
            if len(runs) >= limit:
                return sorted(runs, key=lambda r: (r.started_ms, r.task))
    return sorted(runs, key=lambda r: (r.started_ms, r.task))


def _list_days(store: ObjectStore, base: str) -> Iterator[Any]:
    """One listing per day folder would need delimiters; a prefix walk that skips ahead to the
    next day after each hit costs one request per day instead of one per run."""
    start_after: str | None = None
    while True:
        found = next(iter(store.list(base, start_after=start_after)), None)
        if found is None:
            return
        yield found
        day = found.key[len(base):].split("/", 1)[0]
        start_after = f"{base}{day}/~"  # '~' sorts after every character of a run's name
