"""The herder: owns connector configs, target states and statuses, and tells the worker what to run.

One herder thread reconciles what *should* run (configs, target states, task configs, this
worker's assignment) with what *does* run, so REST calls only write intent and never race the
task threads. Standalone keeps configs in memory; the distributed herder (fjord.connect.
distributed) keeps them in the config topic and adds an assignment — the logic here is shared.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition

from fjord.connect.api import Connector, SinkConnector, SourceConnector
from fjord.connect.config_def import ConfigException
from fjord.connect.connector_config import validate_connector_config, validation_errors
from fjord.connect.offsets import OffsetStore, offset_key
from fjord.connect.plugins import PluginNotFound, Plugins
from fjord.connect.worker import Worker, WorkerListener
from fjord.connect.worker_config import WorkerConfig
from fjord.connect.worker_task import (
    FAILED,
    PAUSED,
    RESTARTING,
    RUNNING,
    STOPPED,
    UNASSIGNED,
    TaskId,
)

log = logging.getLogger("fjord.connect.herder")

TARGET_STATES = (RUNNING, PAUSED, STOPPED)


class HerderError(Exception):
    """An error the REST layer turns into `{"error_code": status, "message": ...}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found(name: str) -> HerderError:
    return HerderError(404, f"Connector {name} not found")


@dataclass
class ConnectorEntry:
    config: dict[str, str]
    target: str = RUNNING
    task_configs: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RestartRequest:
    connector: str
    include_tasks: bool = False
    only_failed: bool = False
    task: int | None = None


@dataclass
class Status:
    state: str
    worker_id: str
    trace: str | None = None
    generation: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state, "worker_id": self.worker_id}
        if self.trace:
            out["trace"] = self.trace
        return out


class ConfigStore:
    """Connector configs, target states and task configs. Memory here; a topic when distributed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, ConnectorEntry] = {}
        self.on_change: Callable[[], None] = lambda: None
        self.on_restart: Callable[[RestartRequest], None] = lambda request: None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def snapshot(self) -> dict[str, ConnectorEntry]:
        with self._lock:
            return copy.deepcopy(self._entries)

    def put_connector(self, name: str, config: Mapping[str, str], target: str | None) -> None:
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                self._entries[name] = ConnectorEntry(dict(config), target or RUNNING)
            else:
                entry.config = dict(config)
                if target:
                    entry.target = target
        self.on_change()

    def remove_connector(self, name: str) -> None:
        with self._lock:
            self._entries.pop(name, None)
        self.on_change()

    def put_target_state(self, name: str, target: str) -> None:
        with self._lock:
            if name in self._entries:
                self._entries[name].target = target
        self.on_change()

    def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        with self._lock:
            if name in self._entries:
                self._entries[name].task_configs = [dict(c) for c in configs]
        self.on_change()

    def request_restart(self, request: RestartRequest) -> None:
        self.on_restart(request)


class StatusStore:
    """Connector and task states as the REST API reports them; a topic when distributed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.connectors: dict[str, Status] = {}
        self.tasks: dict[TaskId, Status] = {}
        self.topics: dict[str, dict[str, int]] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def put_connector(self, name: str, status: Status | None) -> None:
        with self._lock:
            if status is None:
                self.connectors.pop(name, None)
            else:
                self.connectors[name] = status

    def put_task(self, task: TaskId, status: Status | None) -> None:
        with self._lock:
            if status is None:
                self.tasks.pop(task, None)
            else:
                self.tasks[task] = status

    def put_topic(self, connector: str, topic: str, active: bool) -> None:
        with self._lock:
            topics = self.topics.setdefault(connector, {})
            if active:
                topics[topic] = int(time.time() * 1000)
            else:
                topics.pop(topic, None)

    def reset_topics(self, connector: str) -> None:
        with self._lock:
            self.topics.pop(connector, None)

    def connector(self, name: str) -> Status | None:
        with self._lock:
            return self.connectors.get(name)

    def task(self, task: TaskId) -> Status | None:
        with self._lock:
            return self.tasks.get(task)

    def connector_topics(self, name: str) -> list[str]:
        with self._lock:
            return sorted(self.topics.get(name, {}))

    def remove_connector_all(self, name: str) -> None:
        with self._lock:
            self.connectors.pop(name, None)
            for task in [t for t in self.tasks if t.connector == name]:
                del self.tasks[task]


class Herder(WorkerListener):
    mode = "standalone"

    def __init__(self, config: WorkerConfig, plugins: Plugins, offset_store: OffsetStore,
                 config_store: ConfigStore | None = None, status_store: StatusStore | None = None
                 ) -> None:
        self.config = config
        self.plugins = plugins
        self.offset_store = offset_store
        self.config_store = config_store or ConfigStore()
        self.status_store = status_store or StatusStore()
        self.worker = Worker(config, plugins, offset_store, self)
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
                if running.target != entry.target and entry.target == RUNNING:
                    self._needs_reconfig.add(name)
                self.worker.set_connector_target(name, entry.target)
            if entry.target == RUNNING and name in self._needs_reconfig:
                fresh = self.worker.connector_task_configs(name)
                if fresh is not None:
                    self._needs_reconfig.discard(name)
                    if fresh != entry.task_configs:
                        self.config_store.put_task_configs(name, fresh)
            elif entry.target == STOPPED and entry.task_configs:
                self.config_store.put_task_configs(name, [])
        snapshot = self.config_store.snapshot()
        desired: dict[TaskId, tuple[dict[str, str], dict[str, str], str]] = {}
        for name, entry in snapshot.items():
            if entry.target == STOPPED:
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
            if entry.target == STOPPED:
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
            if not request.only_failed or (status is not None and status.state == FAILED):
                self.on_connector_state(name, RESTARTING, None)
                self.worker.stop_connector(name)
        if request.task is not None or request.include_tasks:
            for task in [t for t in list(self.worker.tasks) + list(self._task_failures)
                         if t.connector == name]:
                if request.task is not None and task.task != request.task:
                    continue
                if not self.owns_task(task):
                    continue
                status = self.status_store.task(task)
                if request.only_failed and (status is None or status.state != FAILED):
                    continue
                self.on_task_state(task, RESTARTING, None)
                self.worker.stop_task(task)
                self._task_failures.pop(task, None)

    # ---------------------------------------------------------------- queries used by REST

    def _entry(self, name: str) -> ConnectorEntry:
        entry = self.config_store.snapshot().get(name)
        if entry is None:
            raise not_found(name)
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
        connector = status.to_json() if status else {"state": UNASSIGNED, "worker_id": ""}
        tasks = []
        if entry.target != STOPPED:
            for index in range(len(entry.task_configs)):
                task_status = self.status_store.task(TaskId(name, index))
                body = task_status.to_json() if task_status else {"state": UNASSIGNED,
                                                                  "worker_id": ""}
                tasks.append({"id": index, **body})
        return {"name": name, "connector": connector, "tasks": tasks,
                "type": self.worker.connector_type(entry.config)}

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        entry = self._entry(name)
        if not 0 <= task < len(entry.task_configs):
            raise HerderError(404, f"Task {name}-{task} not found")
        status = self.status_store.task(TaskId(name, task))
        body = status.to_json() if status else {"state": UNASSIGNED, "worker_id": ""}
        return {"id": task, **body}

    def active_topics(self, name: str) -> dict[str, Any]:
        self._entry(name)
        return {name: {"topics": self.status_store.connector_topics(name)}}

    def reset_topics(self, name: str) -> None:
        self._entry(name)
        self.status_store.reset_topics(name)

    # ---------------------------------------------------------------- writes

    def validate(self, config: Mapping[str, str]) -> dict[str, Any]:
        if not config.get("connector.class"):
            raise HerderError(400, "Connector config " + str(dict(config)) +
                              " contains no connector type")
        try:
            return validate_connector_config(self.plugins, config)
        except ConfigException as exc:
            raise HerderError(400, str(exc)) from exc

    def _check_config(self, name: str, config: Mapping[str, str]) -> None:
        if not name or not name.strip():
            raise HerderError(400, "Connector name is null or empty")
        if "/" in name or any(ord(c) < 32 for c in name):
            raise HerderError(400, f"Connector name contains invalid characters: {name}")
        infos = self.validate(config)
        errors = validation_errors(infos)
        if errors:
            raise HerderError(400, (
                f"Connector configuration is invalid and contains the following {len(errors)} "
                "error(s):\n" + "\n".join(errors) + "\nYou can also find the above list of errors "
                "at the endpoint `/connector-plugins/{connectorType}/config/validate`"))

    def put_connector_config(self, name: str, config: Mapping[str, str], allow_replace: bool,
                             initial_state: str | None = None) -> tuple[bool, dict[str, Any]]:
        config = {str(k): str(v) if v is not None else "" for k, v in config.items()}
        config.setdefault("name", name)
        if config["name"] != name:
            raise HerderError(400, "Connector name configuration (" + config["name"] + ") doesn't "
                              "match connector name in the URL (" + name + ")")
        if initial_state is not None and initial_state not in TARGET_STATES:
            raise HerderError(400, f"Invalid initial state {initial_state}")
        exists = name in self.config_store.snapshot()
        if exists and not allow_replace:
            raise HerderError(409, f"Connector {name} already exists")
        self._check_config(name, config)
        self.config_store.put_connector(name, config, None if exists else (initial_state or RUNNING))
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
            if not only_failed or plan["connector"]["state"] == FAILED:
                plan["connector"]["state"] = RESTARTING
            for task in plan["tasks"]:
                if not only_failed or task["state"] == FAILED:
                    task["state"] = RESTARTING
        self.config_store.request_restart(RestartRequest(name, include_tasks, only_failed))
        self.wait_for_reconcile()
        return plan if (include_tasks or only_failed) else None

    def restart_task(self, name: str, task: int) -> None:
        entry = self._entry(name)
        if not 0 <= task < len(entry.task_configs):
            raise HerderError(404, f"Task {name}-{task} not found")
        self.config_store.request_restart(RestartRequest(name, task=task))
        self.wait_for_reconcile()

    # ---------------------------------------------------------------- offsets (KIP-875)

    def _connector_class(self, entry: ConnectorEntry) -> type[Connector]:
        try:
            return self.plugins.connector_class(entry.config.get("connector.class", ""))
        except PluginNotFound as exc:
            raise HerderError(500, str(exc)) from exc

    def connector_offsets(self, name: str) -> dict[str, Any]:
        entry = self._entry(name)
        cls = self._connector_class(entry)
        if issubclass(cls, SinkConnector):
            return {"offsets": self._sink_offsets(name)}
        return {"offsets": [{"partition": p, "offset": o}
                            for p, o in self.offset_store.connector_offsets(name)]}

    def _sink_group(self, name: str) -> str:
        config = self._entry(name).config
        return config.get("consumer.override.group.id") or f"connect-{name}"

    def _sink_offsets(self, name: str) -> list[dict[str, Any]]:
        admin = self.worker.admin
        group = self._sink_group(name)
        try:
            futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            result = futures[group].result(15)
        except KafkaException as exc:
            if "GROUP_ID_NOT_FOUND" in str(exc) or "COORDINATOR_NOT_AVAILABLE" in str(exc):
                return []
            raise HerderError(500, f"Failed to retrieve consumer group offsets for sink connector "
                              f"{name}: {exc}") from exc
        out = []
        for tp in result.topic_partitions or []:
            if tp.offset >= 0:
                out.append({"partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                            "offset": {"kafka_offset": tp.offset}})
        return sorted(out, key=lambda o: (o["partition"]["kafka_topic"],
                                          o["partition"]["kafka_partition"]))

    def _require_stopped(self, name: str, entry: ConnectorEntry) -> None:
        if entry.target != STOPPED:
            raise HerderError(400, "Connectors must be in the STOPPED state before their offsets can "
                              "be modified. This can be done for the specified connector by issuing "
                              f"a 'PUT' request to the '/connectors/{name}/stop' endpoint")
        busy = [t for t in self.worker.tasks if t.connector == name]
        if busy:
            raise HerderError(409, "Cannot alter offsets while tasks of the connector are still "
                              "running; retry shortly")

    def alter_offsets(self, name: str, offsets: list[dict[str, Any]] | None) -> dict[str, str]:
        """PATCH (offsets given) or DELETE (offsets None → reset all)."""
        entry = self._entry(name)
        self._require_stopped(name, entry)
        cls = self._connector_class(entry)
        reset = offsets is None
        if issubclass(cls, SinkConnector):
            self._alter_sink_offsets(name, entry, offsets)
            return {"message": "The offsets for this connector have been reset successfully" if reset
                    else "The offsets for this connector have been altered successfully"}
        changes: dict[str, Any] = {}
        requested: dict[Any, Any] = {}
        if reset:
            partitions = [p for p, _ in self.offset_store.connector_offsets(name)]
            changes = {offset_key(name, p): None for p in partitions}
            requested = {tuple(sorted(p.items())): None for p in partitions}
        else:
            for item in offsets or []:
                partition = item.get("partition")
                if not isinstance(partition, dict):
                    raise HerderError(400, "Partitions cannot be null or empty and must be objects")
                offset = item.get("offset")
                if offset is not None and not isinstance(offset, dict):
                    raise HerderError(400, "Offsets must be objects or null")
                changes[offset_key(name, partition)] = offset
                requested[tuple(sorted(partition.items()))] = offset
        connector: Any = cls()
        try:
            handled = connector.alter_offsets(dict(entry.config),
                                              {_FrozenDict(dict(k)): v for k, v in requested.items()})
        except Exception as exc:
            raise HerderError(400, f"Failed to alter offsets for connector {name}: {exc}") from exc
        self.offset_store.put(name, changes)
        verb = "reset" if reset else "altered"
        if handled:
            return {"message": f"The offsets for this connector have been {verb} successfully"}
        return {"message": f"The Connect framework-managed offsets for this connector have been {verb} "
                "successfully. However, if this connector manages offsets externally, they will need "
                f"to be manually {verb} in the system that the connector uses."}

    def _alter_sink_offsets(self, name: str, entry: ConnectorEntry,
                            offsets: list[dict[str, Any]] | None) -> None:
        admin = self.worker.admin
        group = self._sink_group(name)
        if offsets is None:
            futures = admin.delete_consumer_groups([group], request_timeout=15)
            for future in futures.values():
                try:
                    future.result(15)
                except KafkaException as exc:
                    if "GROUP_ID_NOT_FOUND" not in str(exc):
                        raise HerderError(500, f"Failed to reset offsets for {name}: {exc}") from exc
            return
        to_set, to_delete = [], []
        for item in offsets:
            partition = item.get("partition") or {}
            topic, index = partition.get("kafka_topic"), partition.get("kafka_partition")
            if not isinstance(topic, str) or not isinstance(index, int):
                raise HerderError(400, "Partitions must contain kafka_topic (string) and "
                                  "kafka_partition (integer)")
            offset = item.get("offset")
            if offset is None:
                to_delete.append(KafkaTopicPartition(topic, index))
                continue
            value = offset.get("kafka_offset") if isinstance(offset, dict) else None
            if not isinstance(value, int) or value < 0:
                raise HerderError(400, "Offsets must contain kafka_offset (non-negative integer)")
            to_set.append(KafkaTopicPartition(topic, index, value))
        sink: Any = self._connector_class(entry)()
        sink.alter_offsets(dict(entry.config), {
            **{(tp.topic, tp.partition): tp.offset for tp in to_set},
            **{(tp.topic, tp.partition): None for tp in to_delete}})
        try:
            if to_set:
                admin.alter_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(group, to_set)])[group].result(15)
            if to_delete:
                # confluent-kafka has no DeleteConsumerGroupOffsets; a whole reset uses DELETE.
                raise HerderError(400, "Removing the offsets of single sink partitions is not "
                                  "supported; reset all of them with DELETE "
                                  f"/connectors/{name}/offsets")
        except KafkaException as exc:
            raise HerderError(500, f"Failed to alter consumer group offsets for connector {name}: "
                              f"{exc}") from exc

    # ---------------------------------------------------------------- plugins

    def plugin_list(self, connectors_only: bool = True) -> list[dict[str, str]]:
        out = []
        for desc in self.plugins.connectors():
            out.append({"class": desc.class_name, "type": desc.type, "version": desc.version()})
        if not connectors_only:
            from fjord.connect.converters import CONVERTERS, HEADER_CONVERTERS
            from fjord.connect.transforms import PREDICATES, TRANSFORMS
            for table, kind in ((TRANSFORMS, "transformation"), (PREDICATES, "predicate"),
                                (CONVERTERS, "converter"), (HEADER_CONVERTERS, "header_converter")):
                for name in sorted(table):
                    out.append({"class": name, "type": kind, "version": "4.0.0-fjord"})
        return out

    def is_source(self, name: str) -> bool:
        return issubclass(self._connector_class(self._entry(name)), SourceConnector)


class _FrozenDict(dict):  # type: ignore[type-arg]
    """A partition map usable as a dict key (Kafka passes Map<Map<String,?>, Map<String,?>>)."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))
