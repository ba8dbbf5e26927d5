"""The states connectors and tasks report, the states they are asked to be in, and task ids.

Kafka's AbstractStatus.State and TargetState: the values are Kafka's strings, so the status
and config topics and the REST bodies read the same as a Java worker's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TaskState(StrEnum):
    """What a connector or task is doing (`state` in REST status bodies)."""

    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"


class TargetState(StrEnum):
    """What a connector is asked to be: `initial_state`, pause, resume and stop set it."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


@dataclass(frozen=True, order=True)
class TaskId:
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


@dataclass
class Status:
    """One connector's or task's last reported state, and which worker reported it."""

    state: str
    worker_id: str
    trace: str | None = None
    generation: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state, "worker_id": self.worker_id}
        if self.trace:
            out["trace"] = self.trace
        return out
