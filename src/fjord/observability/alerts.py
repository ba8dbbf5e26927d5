"""Storage alerts, the MSK way: a warning when a log dir's disk passes 60 % and again at
80 %, a critical one when it is (nearly) full. Each threshold crossed is one alert, raised
once with a log line and cleared with another, visible in /metrics and /v1/alerts.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("fjord.alerts")

WARNING, CRITICAL = "warning", "critical"


@dataclass(frozen=True, slots=True)
class DiskUsage:
    log_dir: str
    total: int
    free: int

    @property
    def used(self) -> int:
        return self.total - self.free

    @property
    def used_percent(self) -> float:
        return 100.0 * self.used / self.total if self.total else 0.0


@dataclass(slots=True)
class Alert:
    log_dir: str
    threshold: int  # percent
    severity: str
    used_percent: float
    since_ms: int

    def message(self) -> str:
        what = "is full" if self.severity == CRITICAL else f"is over {self.threshold} % used"
        return (f"log dir {self.log_dir} {what} ({self.used_percent:.1f} %): free space or "
                f"shorten retention (log.retention.ms / retention.ms)")

    def to_json(self) -> dict[str, object]:
        return {"type": "STORAGE", "log_dir": self.log_dir, "threshold_percent": self.threshold,
                "severity": self.severity.upper(), "used_percent": round(self.used_percent, 2),
                "since_ms": self.since_ms, "message": self.message()}


def disk_usage(directory: Path) -> DiskUsage:
    stat = os.statvfs(directory)
    # df's arithmetic: used blocks against what is usable by the broker (not root's reserve).
    used = (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    available = stat.f_bavail * stat.f_frsize
    return DiskUsage(str(directory), used + available, available)

class StorageAlerts:
    def __init__(self, thresholds: list[int]) -> None:
        ordered = sorted(set(thresholds))
        self.thresholds = ordered
        self.critical = ordered[-1] if ordered else 100
        self.active: dict[tuple[str, int], Alert] = {}
        self.usage: dict[str, DiskUsage] = {}

    def severity(self, threshold: int) -> str:
        return CRITICAL if threshold == self.critical and len(self.thresholds) > 1 else WARNING

    def check(self, dirs: list[Path]) -> list[Alert]:
        """Re-read every log dir's usage; returns the alerts raised by this check."""
        raised = []
        for directory in dirs:
            try:
                usage = disk_usage(directory)
            except OSError as exc:
                log.error("cannot read the disk usage of log dir %s: %s", directory, exc)
                continue
            raised += self.evaluate(usage)
        return raised

    def evaluate(self, usage: DiskUsage) -> list[Alert]:
        """Raise (once) or clear each threshold for one log dir's usage."""
        raised = []
        now = int(time.time() * 1000)
        self.usage[usage.log_dir] = usage
        percent = usage.used_percent
        for threshold in self.thresholds:
            key = (usage.log_dir, threshold)
            current = self.active.get(key)
            if percent >= threshold:
                if current is None:
                    alert = Alert(usage.log_dir, threshold, self.severity(threshold), percent, now)
                    self.active[key] = alert
                    raised.append(alert)
                    level = logging.ERROR if alert.severity == CRITICAL else logging.WARNING
                    log.log(level, "storage alert %s: %s", alert.severity.upper(), alert.message())
                else:
                    current.used_percent = percent
            elif current is not None:
                del self.active[key]
                log.info("storage alert cleared: log dir %s is at %.1f %%, below %d %%",
                         usage.log_dir, percent, threshold)
        return raised

    def alerts(self) -> list[Alert]:
        return sorted(self.active.values(), key=lambda a: (a.log_dir, a.threshold))
