"""What the thread driving one task shares, source or sink (Kafka's WorkerTask).

One thread per task, as Kafka's worker does, so a connector's blocking calls never stall
another task. A task that throws goes FAILED with its trace; the worker keeps running.
fjord.connect.source_task and fjord.connect.sink_task hold the two loops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fjord.connect.api import (
    ConnectException,
    Converter,
    HeaderConverter,
    Task,
)
from fjord.connect.errors import (
    ErrorConfig,
    RetryWithToleranceOperator,
    trace_of,
)
from fjord.connect.plugins import Plugins
from fjord.connect.status import TargetState, TaskId, TaskState
from fjord.connect.storage.offsets import OffsetBackingStore
from fjord.connect.transform_chain import TransformationChain
from fjord.observability.connect_metrics import TaskCounters

log = logging.getLogger("fjord.connect.task")

class StatusListener(Protocol):
    def on_task_state(self, task: TaskId, state: str, trace: str | None) -> None: ...

    def on_active_topic(self, connector: str, topic: str) -> None: ...


@dataclass
class TaskServices:
    """What a task thread needs from its worker."""

    client_config: Callable[[str, Mapping[str, str]], dict[str, Any]]
    offset_store: OffsetBackingStore
    offset_flush_interval_s: float
    offset_flush_timeout_s: float
    key_converter: Converter
    value_converter: Converter
    header_converter: HeaderConverter
    plugins: Plugins
    listener: StatusListener
    ensure_topic: Callable[..., None]
    topic_creation: bool = True


class WorkerTask(threading.Thread):
    is_sink = False

    def __init__(self, task_id: TaskId, task: Task, connector_config: Mapping[str, str],
                 task_config: Mapping[str, str], target_state: str, services: TaskServices) -> None:
        super().__init__(name=f"task-thread-{task_id}", daemon=True)
        self.id = task_id
        self.task = task
        self.connector_config = dict(connector_config)
        self.task_config = dict(task_config)
        self.services = services
        self.target_state = target_state
        self._stopping = threading.Event()
        self._state_changed = threading.Condition()
        self.state: str = TaskState.UNASSIGNED
        self.trace: str | None = None
        self.errors = RetryWithToleranceOperator(
            ErrorConfig.from_connector_config(connector_config), task_id.connector, task_id.task)
        self.chain = TransformationChain.from_config(connector_config, services.plugins)
        self._reported_topics: set[str] = set()
        self.metrics = TaskCounters(self.is_sink)  # read by the worker's /metrics

    # -- lifecycle, called from the herder's thread

    def transition_to(self, target: str) -> None:
        with self._state_changed:
            self.target_state = target
            self._state_changed.notify_all()

    def stop(self) -> None:
        self._stopping.set()
        with self._state_changed:
            self._state_changed.notify_all()
        if self.stop_from_caller:
            try:
                self.task.stop()
            except Exception:
                log.exception("task %s failed to stop cleanly", self.id)

    # Kafka calls SourceTask.stop from another thread (to unblock poll) but SinkTask.stop from
    # the task's own thread, after its last put: a sink's file must not close under put.
    stop_from_caller = True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _set_state(self, state: str, trace: str | None = None) -> None:
        self.state, self.trace = state, trace
        self.services.listener.on_task_state(self.id, state, trace)

    def _topic_seen(self, topic: str) -> None:
        if topic not in self._reported_topics:
            self._reported_topics.add(topic)
            self.services.listener.on_active_topic(self.id.connector, topic)

    def _wait_while_paused(self) -> bool:
        """Block while PAUSED; True when the task should go on running."""
        with self._state_changed:
            if self.target_state == TargetState.PAUSED and not self.stopping:
                self._set_state(TaskState.PAUSED)
                self.on_pause()
                while self.target_state == TargetState.PAUSED and not self.stopping:
                    self._state_changed.wait(0.5)
                if not self.stopping:
                    self.on_resume()
                    self._set_state(TaskState.RUNNING)
        return not self.stopping

    def on_pause(self) -> None:
        pass

    def on_resume(self) -> None:
        pass

    def run(self) -> None:
        try:
            self.initialize()
            self.task.start(dict(self.task_config))
            self._set_state(TaskState.RUNNING)
            self.execute()
        except Exception as exc:
            if self.stopping and not isinstance(exc, ConnectException):
                log.debug("task %s raised while stopping: %s", self.id, exc)
            else:
                log.error("WorkerTask{id=%s} Task threw an uncaught and unrecoverable exception. "
                          "Task is being killed and will not recover until manually restarted",
                          self.id, exc_info=exc)
                self._set_state(TaskState.FAILED, trace_of(exc))
        finally:
            try:
                self.close()
            except Exception:
                log.exception("task %s failed to close", self.id)
            self.chain.close()

    def initialize(self) -> None:
        raise NotImplementedError

    def execute(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass



