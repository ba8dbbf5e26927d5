"""Backup run metrics of a Connect worker: every finished run of a backup rule's task (the
object-storage sink's run history) counted here, shown on the worker's /metrics.

The sink tasks run in the worker's threads and the scrape in a REST thread, so the one
process-wide table has a lock; a run is a rare event (minutes apart), the lock is free.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fjord.observability.exposition import Family, counter, gauge


@dataclass
class _TaskRuns:
    ok: int = 0
    failed: int = 0
    records: int = 0
    bytes: int = 0
    objects: int = 0
    last_finished_ms: int = 0
    last_duration_ms: int = 0
    last_failed: bool = False


class BackupRuns:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[tuple[str, int], _TaskRuns] = {}

    def observe(self, rule: str, task: int, ok: bool, records: int, size: int, objects: int,
                started_ms: int, finished_ms: int) -> None:
        with self._lock:
            runs = self._tasks.setdefault((rule, task), _TaskRuns())
            if ok:
                runs.ok += 1
            else:
                runs.failed += 1
            runs.records += records
            runs.bytes += size
            runs.objects += objects
            runs.last_finished_ms = finished_ms
            runs.last_duration_ms = max(0, finished_ms - started_ms)
            runs.last_failed = not ok

    def families(self) -> list[Family]:
        runs = counter("fjord_backup_runs", "Backup runs finished, by rule, task and status.")
        records = counter("fjord_backup_records", "Records written to object storage by a rule's task.")
        size = counter("fjord_backup_bytes", "Bytes written to object storage by a rule's task.")
        objects = counter("fjord_backup_objects", "Objects written to object storage by a rule's task.")
        last = gauge("fjord_backup_last_run_timestamp_seconds", "When a rule's task last finished a run.")
        duration = gauge("fjord_backup_last_run_duration_seconds", "How long that last run took.")
        failed = gauge("fjord_backup_last_run_failed", "1 when a rule's task's last run failed.")
        with self._lock:
            items = sorted(self._tasks.items())
        for (rule, task), item in items:
            labels = (("rule", rule), ("task", str(task)))
            runs.add(item.ok, (*labels, ("status", "ok")))
            runs.add(item.failed, (*labels, ("status", "failed")))
            records.add(item.records, labels)
            size.add(item.bytes, labels)
            objects.add(item.objects, labels)
            last.add(item.last_finished_ms / 1000, labels)
            duration.add(item.last_duration_ms / 1000, labels)
            failed.add(1 if item.last_failed else 0, labels)
        return [runs, records, size, objects, last, duration, failed]


BACKUP_RUNS = BackupRuns()
"""The worker process's table (one per process, like its task threads)."""
