"""What every herder shares: the reconcile loop, and the queries and writes REST calls.

One herder thread reconciles what *should* run (configs, target states, task configs, this
worker's assignment) with what *does* run, so REST calls only write intent and never race the
task threads. StandaloneHerder (fjord.connect.standalone) keeps configs in memory; the
DistributedHerder (fjord.connect.distributed) keeps them in the config topic and adds an
assignment. Errors are raised as fjord.connect.herder's error types; rest.py alone maps them
to HTTP status codes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from fjord.connect.config_def import ConfigException
from fjord.connect.connector_config import validate_connector_config, validation_errors
from fjord.connect.herder import (
    AlreadyExistsError,
    BadRequestError,
    NotFoundError,
    connector_not_found,
)
from fjord.connect.offset_admin import OffsetAdmin
from fjord.connect.plugins import BUILTIN_VERSION, PluginNotFound, Plugins
from fjord.connect.status import Status, TargetState, TaskId, TaskState
from fjord.connect.storage.config import ConnectorEntry, MemoryConfigBackingStore, RestartRequest
from fjord.connect.storage.offsets import OffsetBackingStore
from fjord.connect.storage.status import MemoryStatusBackingStore
from fjord.connect.worker import Worker, WorkerListener
from fjord.connect.worker_config import WorkerConfig

log = logging.getLogger("fjord.connect.herder")


class AbstractHerder(WorkerListener):
    """The reconcile loop, REST queries and writes every herder shares (Kafka's AbstractHerder).

    Subclasses choose the stores and what this worker owns: StandaloneHerder owns everything,
    DistributedHerder what its group assignment gives it.
    """

    mode = "standalone"

    def __init__(self, config: WorkerConfig, plugins: Plugins, offset_store: OffsetBackingStore,
                 config_store: MemoryConfigBackingStore, status_store: MemoryStatusBackingStore) -> None:
        self.config = config
        self.plugins = plugins
        self.offset_store = offset_store
        self.config_store = config_store
        self.status_store = status_store
        self.worker = Worker(config, plugins, offset_store, self)
        self.offsets = OffsetAdmin(plugins, offset_store, lambda: self.worker.admin)
        self.worker_id = self.worker.worker_id
        self.generation = 0
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._passes = 0
        self._running = False
        self._thread: threading.Thread | None = None
        self._needs_reconfig: set[str] = set()
        self._restarts: list[RestartRequest] = []
        self._restart_lock = threading.Lock()
        self._task_failures: dict[TaskId, tuple[dict[str, str], dict[str, str]]] = {}
        self.started = False
        self.config_store.on_change = self.request_reconcile
        self.config_store.on_restart = self._queue_restart

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self.offset_store.start()
        self.status_store.start()
        self.config_store.start()
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="herder", daemon=True)
        self._thread.start()
        self.started = True

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        self.worker.stop()
        self.config_store.stop()
        self.status_store.stop()
        self.offset_store.stop()

    def request_reconcile(self) -> None:
        self._wake.set()

    def wait_for_reconcile(self, timeout: float = 10.0) -> None:
        """Block until a reconcile pass that started after this call has finished."""
        with self._done:
            target = self._passes + 2
            self._wake.set()
            self._done.wait_for(lambda: self._passes >= target or not self._running, timeout)

    def _loop(self) -> None:
        while self._running:
            self._wake.wait(1.0)
            self._wake.clear()
            if not self._running:
                break
            try:
                self.tick()
            except Exception:
                log.exception("herder pass failed")
            with self._done:
                self._passes += 1
                self._done.notify_all()

    def tick(self) -> None:
        self._process_restarts()
        self.reconcile()

    # ---------------------------------------------------------------- ownership (distributed overrides)

    def owns_connector(self, name: str) -> bool:
        return True

    def owns_task(self, task: TaskId) -> bool:
        return True

    def ready(self) -> bool:
        return True

    def is_leader(self) -> bool:
        return True

    def leader_url(self) -> str | None:
        """Where writes go when this worker is not the leader; None when it takes them itself."""
        return None

    def cluster_id(self) -> str | None:
        return self.worker.cluster_id()

    def kafka_reachable(self) -> str | None:
        return self.worker.kafka_reachable()

    # ---------------------------------------------------------------- listener (called from task threads)

    def on_connector_state(self, connector: str, state: str, trace: str | None) -> None:
        self.status_store.put_connector(connector, Status(state, self.worker_id, trace,
                                                          self.generation))

    def on_task_state(self, task: TaskId, state: str, trace: str | None) -> None:
        self.status_store.put_task(task, Status(state, self.worker_id, trace, self.generation))

    def on_active_topic(self, connector: str, topic: str) -> None:
        if topic not in self.status_store.connector_topics(connector):
            self.status_store.put_topic(connector, topic, True)

    def on_task_reconfiguration(self, connector: str) -> None:
        self._needs_reconfig.add(connector)
        self.request_reconcile()

    # ---------------------------------------------------------------- reconcile

    def reconcile(self) -> None:
        if not self.ready():
            return
        snapshot = self.config_store.snapshot()
        for name in list(self.worker.connectors):
            if name not in snapshot or not self.owns_connector(name):
                self.worker.stop_connector(name)
                if name not in snapshot:
                    self.status_store.remove_connector_all(name)
        for name, entry in snapshot.items():
            if not self.owns_connector(name):
                continue
            running = self.worker.connectors.get(name)
            if running is None or running.config != self.worker.resolve_config(entry.config):
                self.worker.start_connector(name, entry.config, entry.target)
                self._needs_reconfig.add(name)
            else:
                if running.target != entry.target and entry.target == TargetState.RUNNING:
                    self._needs_reconfig.add(name)
                self.worker.set_connector_target(name, entry.target)
            if entry.target == TargetState.RUNNING and name in self._needs_reconfig:
                fresh = self.worker.connector_task_configs(name)
                if fresh is not None:
                    self._needs_reconfig.discard(name)
                    if fresh != entry.task_configs:
                        self.config_store.put_task_configs(name, fresh)
            elif entry.target == TargetState.STOPPED and entry.task_configs:
                self.config_store.put_task_configs(name, [])
        snapshot = self.config_store.snapshot()
        desired: dict[TaskId, tuple[dict[str, str], dict[str, str], str]] = {}
        for name, entry in snapshot.items():
            if entry.target == TargetState.STOPPED:
                continue
            for index, task_config in enumerate(entry.task_configs):
                task = TaskId(name, index)
                if self.owns_task(task):
                    desired[task] = (entry.config, task_config, entry.target)
        stale = []
        for task, runner in list(self.worker.tasks.items()):
            want = desired.get(task)
            if want is None or runner.connector_config != self.worker.resolve_config(want[0]) \
                    or runner.task_config != self.worker.resolve_config(want[1]):
                stale.append(task)
        for task, (conn_cfg, task_cfg) in list(self._task_failures.items()):
            want = desired.get(task)
            if want is None or (conn_cfg, task_cfg) != (want[0], want[1]):
                del self._task_failures[task]
        if stale:
            self.worker.stop_tasks(stale)
        for task in stale:
            if task not in desired:
                current = self.status_store.task(task)
                if current is not None and current.worker_id == self.worker_id:
                    self.status_store.put_task(task, None)
        for task, (conn_cfg, task_cfg, target) in sorted(desired.items()):
            if task in self.worker.tasks:
                self.worker.set_task_target(task, target)
            elif task not in self._task_failures:
                self.worker.start_task(task, conn_cfg, task_cfg, target)
                if task not in self.worker.tasks:
                    self._task_failures[task] = (conn_cfg, task_cfg)
        # Task statuses of a STOPPED connector disappear, as in Kafka.
        for name, entry in snapshot.items():
            if entry.target == TargetState.STOPPED:
                for task in [t for t in list(self.status_store.tasks) if t.connector == name]:
                    self.status_store.put_task(task, None)

    def _queue_restart(self, request: RestartRequest) -> None:
        with self._restart_lock:
            self._restarts.append(request)
        self.request_reconcile()

    def _process_restarts(self) -> None:
        with self._restart_lock:
            requests, self._restarts = self._restarts, []
        for request in requests:
            self._apply_restart(request)

    def _apply_restart(self, request: RestartRequest) -> None:
        name = request.connector
        if request.task is None and self.owns_connector(name):
            status = self.status_store.connector(name)
            if not request.only_failed or (status is not None and status.state == TaskState.FAILED):
                self.on_connector_state(name, TaskState.RESTARTING, None)
                self.worker.stop_connector(name)
        if request.task is not None or request.include_tasks:
            for task in [t for t in list(self.worker.tasks) + list(self._task_failures)
                         if t.connector == name]:
                if request.task is not None and task.task != request.task:
                    continue
                if not self.owns_task(task):
                    continue
                status = self.status_store.task(task)
                if request.only_failed and (status is None or status.state != TaskState.FAILED):
                    continue
                self.on_task_state(task, TaskState.RESTARTING, None)
                self.worker.stop_task(task)
                self._task_failures.pop(task, None)

    # ---------------------------------------------------------------- queries used by REST

    def _entry(self, name: str) -> ConnectorEntry:
        entry = self.config_store.snapshot().get(name)
        if entry is None:
            raise connector_not_found(name)
        return entry

    def connectors(self) -> list[str]:
        return sorted(self.config_store.snapshot())

    def connector_info(self, name: str) -> dict[str, Any]:
        entry = self._entry(name)
        return self._info(name, entry)

    def _info(self, name: str, entry: ConnectorEntry) -> dict[str, Any]:
        return {"name": name, "config": dict(entry.config),
                "tasks": [{"connector": name, "task": i} for i in range(len(entry.task_configs))],
                "type": self.worker.connector_type(entry.config)}

    def connector_config(self, name: str) -> dict[str, str]:
        return dict(self._entry(name).config)

    def task_configs(self, name: str) -> list[dict[str, Any]]:
        entry = self._entry(name)
        return [{"id": {"connector": name, "task": i}, "config": dict(c)}
                for i, c in enumerate(entry.task_configs)]

    def connector_status(self, name: str) -> dict[str, Any]:
        entry = self._entry(name)
        status = self.status_store.connector(name)
        version = self._plugin_version(entry)
        connector = status.to_json() if status else {"state": TaskState.UNASSIGNED, "worker_id": ""}
        connector["version"] = version
        tasks = []
        if entry.target != TargetState.STOPPED:
            for index in range(len(entry.task_configs)):
                task_status = self.status_store.task(TaskId(name, index))
                body = task_status.to_json() if task_status else {"state": TaskState.UNASSIGNED,
                                                                  "worker_id": ""}
                tasks.append({"id": index, **body, "version": version})
        return {"name": name, "connector": connector, "tasks": tasks,
                "type": self.worker.connector_type(entry.config)}

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        entry = self._entry(name)
        if not 0 <= task < len(entry.task_configs):
            raise NotFoundError(f"Task {name}-{task} not found")
        status = self.status_store.task(TaskId(name, task))
        body = status.to_json() if status else {"state": TaskState.UNASSIGNED, "worker_id": ""}
        return {"id": task, **body, "version": self._plugin_version(entry)}

    def _plugin_version(self, entry: ConnectorEntry) -> str:
        """The `version` of status bodies (Kafka 4.1, KIP-891): the connector plugin's version."""
        try:
            return self.plugins.desc(entry.config.get("connector.class", "")).version()
        except PluginNotFound:
            return "undefined"

    def active_topics(self, name: str) -> dict[str, Any]:
        self._entry(name)
        return {name: {"topics": self.status_store.connector_topics(name)}}

    def reset_topics(self, name: str) -> None:
        self._entry(name)
        self.status_store.reset_topics(name)

    # ---------------------------------------------------------------- writes

    def validate(self, config: Mapping[str, str]) -> dict[str, Any]:
        if not config.get("connector.class"):
            raise BadRequestError("Connector config " + str(dict(config)) +
                              " contains no connector type")
        try:
            return validate_connector_config(self.plugins, config)
        except ConfigException as exc:
            raise BadRequestError(str(exc)) from exc

    def _check_config(self, name: str, config: Mapping[str, str]) -> None:
        if not name or not name.strip():
            raise BadRequestError("Connector name is null or empty")
        if "/" in name or any(ord(c) < 32 for c in name):
            raise BadRequestError(f"Connector name contains invalid characters: {name}")
        infos = self.validate(config)
        errors = validation_errors(infos)
        if errors:
            raise BadRequestError(
                f"Connector configuration is invalid and contains the following {len(errors)} "
                "error(s):\n" + "\n".join(errors) + "\nYou can also find the above list of errors "
                "at the endpoint `/connector-plugins/{connectorType}/config/validate`")

    def put_connector_config(self, name: str, config: Mapping[str, str], allow_replace: bool,
                             initial_state: str | None = None) -> tuple[bool, dict[str, Any]]:
        config = {str(k): str(v) if v is not None else "" for k, v in config.items()}
        config.setdefault("name", name)
        if config["name"] != name:
            raise BadRequestError("Connector name configuration (" + config["name"] + ") doesn't "
                              "match connector name in the URL (" + name + ")")
        if initial_state is not None and initial_state not in tuple(TargetState):
            raise BadRequestError(f"Invalid initial state {initial_state}")
        exists = name in self.config_store.snapshot()
        if exists and not allow_replace:
            raise AlreadyExistsError(f"Connector {name} already exists")
        self._check_config(name, config)
        target = None if exists else (initial_state or TargetState.RUNNING)
        self.config_store.put_connector(name, config, target)
        self.wait_for_reconcile()
        return not exists, self.connector_info(name)

    def patch_connector_config(self, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        current = self.connector_config(name)
        for key, value in patch.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = str(value)
        _, info = self.put_connector_config(name, current, allow_replace=True)
        return info

    def delete_connector(self, name: str) -> None:
        self._entry(name)
        self.config_store.remove_connector(name)
        self.wait_for_reconcile()

    def set_target_state(self, name: str, target: str) -> None:
        self._entry(name)
        self.config_store.put_target_state(name, target)
        self.wait_for_reconcile()

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> dict[str, Any] | None:
        """None → 204 (plain restart); otherwise the planned status → 202, as Kafka answers."""
        self._entry(name)
        plan = self.connector_status(name)
        if include_tasks or only_failed:
            if not only_failed or plan["connector"]["state"] == TaskState.FAILED:
                plan["connector"]["state"] = TaskState.RESTARTING
            for task in plan["tasks"]:
                if not only_failed or task["state"] == TaskState.FAILED:
                    task["state"] = TaskState.RESTARTING
        self.config_store.request_restart(RestartRequest(name, include_tasks, only_failed))
        self.wait_for_reconcile()
        return plan if (include_tasks or only_failed) else None

    def restart_task(self, name: str, task: int) -> None:
        entry = self._entry(name)
        if not 0 <= task < len(entry.task_configs):
            raise NotFoundError(f"Task {name}-{task} not found")
        self.config_store.request_restart(RestartRequest(name, task=task))
        self.wait_for_reconcile()

    # ---------------------------------------------------------------- plugins

    def plugin_list(self, connectors_only: bool = True) -> list[dict[str, str]]:
        out = []
        for desc in self.plugins.connectors():
            out.append({"class": desc.class_name, "type": desc.type, "version": desc.version()})
        if not connectors_only:
            for name, kind in self.plugins.others():
                out.append({"class": name, "type": kind, "version": BUILTIN_VERSION})
        return out

    # ---------------------------------------------------------------- offsets (KIP-875)

    def connector_offsets(self, name: str) -> dict[str, Any]:
        return self.offsets.connector_offsets(name, self._entry(name))

    def alter_offsets(self, name: str, offsets: list[dict[str, Any]] | None) -> dict[str, str]:
        """PATCH (offsets given) or DELETE (offsets None → reset all)."""
        entry = self._entry(name)
        busy = any(t.connector == name for t in self.worker.tasks)
        return self.offsets.alter_offsets(name, entry, offsets, busy)
