"""The worker: instantiates connectors and tasks and runs them; knows nothing of REST or herders.

Herders (standalone, distributed) decide *what* runs here; the worker does the running,
reports states through a listener, and reaches Kafka only through confluent-kafka clients.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from fjord.connect import clients
from fjord.connect.api import ConnectException, Connector, SourceConnector, connector_type
from fjord.connect.errors import trace_of
from fjord.connect.plugins import Plugins
from fjord.connect.sink_task import WorkerSinkTask
from fjord.connect.source_task import WorkerSourceTask
from fjord.connect.status import TargetState, TaskId, TaskState
from fjord.connect.storage.offsets import ConnectorOffsetReader, OffsetBackingStore
from fjord.connect.worker_config import WorkerConfig, resolve_placeholders
from fjord.connect.worker_task import StatusListener, TaskServices, WorkerTask

log = logging.getLogger("fjord.connect.worker")


class WorkerListener(StatusListener):
    def on_connector_state(self, connector: str, state: str, trace: str | None) -> None: ...

    def on_task_reconfiguration(self, connector: str) -> None: ...


@dataclass
class WorkerConnector:
    name: str
    connector: Connector
    config: dict[str, str]
    target: str
    started: bool = False
    state: str = TaskState.UNASSIGNED
    trace: str | None = None
    task_configs: list[dict[str, str]] = field(default_factory=list)


class _ConnectorContext:
    def __init__(self, worker: Worker, name: str) -> None:
        self._worker = worker
        self._name = name

    def request_task_reconfiguration(self) -> None:
        self._worker.listener.on_task_reconfiguration(self._name)

    def raise_error(self, error: BaseException) -> None:
        self._worker.listener.on_connector_state(self._name, TaskState.FAILED, trace_of(error))

    def offset_storage_reader(self) -> ConnectorOffsetReader:
        return ConnectorOffsetReader(self._worker.offset_store, self._name)


class Worker:
    def __init__(self, config: WorkerConfig, plugins: Plugins, offset_store: OffsetBackingStore,
                 listener: WorkerListener) -> None:
        self.config = config
        self.plugins = plugins
        self.offset_store = offset_store
        self.listener = listener
        self.worker_id = config.worker_id()
        self.connectors: dict[str, WorkerConnector] = {}
        self.tasks: dict[TaskId, WorkerTask] = {}
        self._lock = threading.RLock()
        self._admin: AdminClient | None = None

    # ---------------------------------------------------------------- Kafka access

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = clients.make(AdminClient, self.config.client_config("admin"))
        return self._admin

    def kafka_reachable(self, timeout: float = 3.0) -> str | None:
        """None when the cluster answers; otherwise why not (shown on /health)."""
        try:
            self.admin.list_topics(timeout=timeout)
            return None
        except KafkaException as exc:
            return f"Cannot reach the Kafka cluster at {self.config.bootstrap_servers}: {exc}"

    def cluster_id(self) -> str | None:
        try:
            return str(self.admin.list_topics(timeout=3).cluster_id)
        except KafkaException:
            return None

    def ensure_topic(self, name: str, replication_factor: int, partitions: int = 1,
                     configs: Mapping[str, str] | None = None) -> None:
        metadata = self.admin.list_topics(timeout=10)
        if name in metadata.topics and not metadata.topics[name].error:
            return
        brokers = max(1, len(metadata.brokers))
        # Kafka would refuse a factor above the broker count; a single-node Fjord gets 1.
        factor = min(replication_factor, brokers) if replication_factor > 0 else -1
        futures = self.admin.create_topics([NewTopic(name, partitions, factor,
                                                     config=dict(configs or {}))])
        for future in futures.values():
            try:
                future.result(15)
            except KafkaException as exc:
                if exc.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS
                    raise

    def client_config(self, kind: str, connector_config: Mapping[str, str]) -> dict[str, Any]:
        config = self.config.client_config(kind)
        prefix = f"{kind}.override."
        config.update({k[len(prefix):]: v for k, v in connector_config.items() if k.startswith(prefix)})
        return config

    # ---------------------------------------------------------------- connectors

    def resolve_config(self, config: Mapping[str, str]) -> dict[str, str]:
        """Config provider placeholders resolved at use; stored configs keep the placeholders."""
        return {k: resolve_placeholders(str(v), self.config.providers) for k, v in config.items()}

    def start_connector(self, name: str, config: Mapping[str, str], target: str) -> None:
        with self._lock:
            if name in self.connectors:
                self.stop_connector(name)
            resolved = self.resolve_config(config)
            try:
                cls = self.plugins.connector_class(resolved["connector.class"])
                instance = cls()
            except Exception as exc:
                self.listener.on_connector_state(name, TaskState.FAILED, trace_of(exc))
                self.connectors[name] = WorkerConnector(name, _Failed(), resolved, target,
                                                        state=TaskState.FAILED, trace=trace_of(exc))
                return
            entry = WorkerConnector(name, instance, resolved, target)
            self.connectors[name] = entry
            instance.initialize(_ConnectorContext(self, name))
            self._apply_connector_target(entry, target)

    def _apply_connector_target(self, entry: WorkerConnector, target: str) -> None:
        entry.target = target
        if entry.state == TaskState.FAILED and isinstance(entry.connector, _Failed):
            return
        try:
            if target == TargetState.RUNNING and not entry.started:
                entry.connector.start(dict(entry.config))
                entry.started = True
            elif target in (TargetState.PAUSED, TargetState.STOPPED) and entry.started:
                entry.connector.stop()
                entry.started = False
            entry.state, entry.trace = target, None
            self.listener.on_connector_state(entry.name, target, None)
        except Exception as exc:
            log.error("Connector %s failed to start or stop", entry.name, exc_info=exc)
            entry.started = False
            entry.state, entry.trace = TaskState.FAILED, trace_of(exc)
            self.listener.on_connector_state(entry.name, TaskState.FAILED, entry.trace)

    def set_connector_target(self, name: str, target: str) -> None:
        with self._lock:
            entry = self.connectors.get(name)
            # A FAILED connector stays failed until restarted, unless its target changes.
            if entry is not None and entry.target != target:
                self._apply_connector_target(entry, target)

    def stop_connector(self, name: str) -> None:
        with self._lock:
            entry = self.connectors.pop(name, None)
        if entry is not None and entry.started:
            try:
                entry.connector.stop()
            except Exception:
                log.exception("connector %s failed to stop", name)

    def connector_task_configs(self, name: str) -> list[dict[str, str]] | None:
        """Fresh task configs from a RUNNING connector, or None if it cannot produce them."""
        with self._lock:
            entry = self.connectors.get(name)
            if entry is None or not entry.started:
                return None
            try:
                max_tasks = int(entry.config.get("tasks.max", "1"))
                configs = entry.connector.task_configs(max_tasks)
            except Exception as exc:
                entry.state, entry.trace = TaskState.FAILED, trace_of(exc)
                self.listener.on_connector_state(name, TaskState.FAILED, entry.trace)
                return None
            if len(configs) > max_tasks:
                too_many = ConnectException(f"Connector {name} generated {len(configs)} task configs, "
                                            f"but its tasks.max is {max_tasks}")
                self.listener.on_connector_state(name, TaskState.FAILED, trace_of(too_many))
                return None
            task_class = entry.connector.task_class()
            out = []
            for item in configs:
                merged = {str(k): str(v) for k, v in item.items()}
                merged.setdefault("task.class", f"{task_class.__module__}.{task_class.__qualname__}")
                out.append(merged)
            return out

    def connector_type(self, config: Mapping[str, str]) -> str:
        try:
            cls = self.plugins.connector_class(config.get("connector.class", ""))
        except Exception:
            return "unknown"
        return connector_type(cls)

    # ---------------------------------------------------------------- tasks

    def start_task(self, task_id: TaskId, connector_config: Mapping[str, str],
                   task_config: Mapping[str, str], target: str) -> None:
        with self._lock:
            if task_id in self.tasks:
                self.stop_task(task_id)
            resolved_conn = self.resolve_config(connector_config)
            resolved_task = self.resolve_config(task_config)
            try:
                cls = self.plugins.connector_class(resolved_conn["connector.class"])
                task_cls = cls().task_class()
                services = self._services(resolved_conn)
                task = task_cls()
                runner_cls = WorkerSourceTask if issubclass(cls, SourceConnector) else WorkerSinkTask
                runner = runner_cls(task_id, task, resolved_conn, resolved_task, target, services)
            except Exception as exc:
                log.error("Failed to start task %s", task_id, exc_info=exc)
                self.listener.on_task_state(task_id, TaskState.FAILED, trace_of(exc))
                return
            self.tasks[task_id] = runner
            runner.start()

    def _services(self, config: Mapping[str, str]) -> TaskServices:
        def converter(kind: str, is_key: bool) -> Any:
            name = config.get(kind) or self.config.get_str(kind)
            source = config if config.get(kind) else self.config.values
            sub = {k[len(kind) + 1:]: v for k, v in source.items() if k.startswith(kind + ".")}
            if kind == "header.converter":
                return self.plugins.new_header_converter(name, sub)
            return self.plugins.new_converter(name, sub, is_key)

        return TaskServices(
            client_config=self.client_config,
            offset_store=self.offset_store,
            offset_flush_interval_s=self.config.get_int("offset.flush.interval.ms") / 1000.0,
            offset_flush_timeout_s=self.config.get_int("offset.flush.timeout.ms") / 1000.0,
            key_converter=converter("key.converter", True),
            value_converter=converter("value.converter", False),
            header_converter=converter("header.converter", False),
            plugins=self.plugins,
            listener=self.listener,
            ensure_topic=self.ensure_topic,
            topic_creation=self.config.get_str("topic.creation.enable").lower() == "true",
        )

    def set_task_target(self, task_id: TaskId, target: str) -> None:
        runner = self.tasks.get(task_id)
        if runner is not None:
            runner.transition_to(target)

    def stop_task(self, task_id: TaskId, timeout: float | None = None) -> None:
        with self._lock:
            runner = self.tasks.pop(task_id, None)
        if runner is None:
            return
        runner.stop()
        limit = timeout if timeout is not None else \
            self.config.get_int("task.shutdown.graceful.timeout.ms") / 1000.0
        runner.join(limit)
        if runner.is_alive():
            log.error("Graceful stop of task %s failed.", task_id)

    def stop_tasks(self, task_ids: list[TaskId]) -> None:
        runners = []
        with self._lock:
            for task_id in task_ids:
                runner = self.tasks.pop(task_id, None)
                if runner is not None:
                    runner.stop()
                    runners.append(runner)
        limit = self.config.get_int("task.shutdown.graceful.timeout.ms") / 1000.0
        for runner in runners:
            runner.join(limit)

    def stop(self) -> None:
        self.stop_tasks(list(self.tasks))
        for name in list(self.connectors):
            self.stop_connector(name)


class _Failed(Connector):
    """Placeholder for a connector whose class could not be loaded or constructed."""

    def version(self) -> str:
        return "unknown"

    def start(self, props: dict[str, str]) -> None:
        raise ConnectException("connector could not be instantiated")

    def task_class(self) -> type:
        raise ConnectException("connector could not be instantiated")

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return []

    def stop(self) -> None:
        pass

    def config(self) -> Any:
        from fjord.connect.config_def import ConfigDef
        return ConfigDef()
