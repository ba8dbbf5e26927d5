"""Connector configs, target states, task configs and restart requests: memory and Kafka-topic stores."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fjord.connect.status import TargetState
from fjord.connect.storage.kafka_log import ClientConfig, KafkaLog, dump_json, load_json


@dataclass
class ConnectorEntry:
    config: dict[str, str]
    target: str = TargetState.RUNNING
    task_configs: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class RestartRequest:
    connector: str
    include_tasks: bool = False
    only_failed: bool = False
    task: int | None = None



class MemoryConfigBackingStore:
    """Connector configs, target states and task configs in memory: standalone mode's store, and
    the view the Kafka-topic store keeps of its topic."""

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
                self._entries[name] = ConnectorEntry(dict(config), target or TargetState.RUNNING)
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



class KafkaConfigBackingStore(MemoryConfigBackingStore):
    """`config.storage.topic`, with Kafka's record keys (connector-, target-state-, task-,
    commit-, restart-connector-)."""

    def __init__(self, client_config: ClientConfig, topic: str) -> None:
        super().__init__()
        self._staged: dict[str, dict[int, dict[str, str]]] = {}
        self._targets: dict[str, str] = {}
        self._live = False
        self.log = KafkaLog(client_config, topic, self._apply)

    def start(self) -> None:
        self.log.start()
        self._live = True

    def stop(self) -> None:
        self.log.stop()

    def _apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        if key_bytes is None:
            return
        key = key_bytes.decode()
        value = load_json(value_bytes)
        changed = True
        with self._lock:
            if key.startswith("connector-"):
                name = key[len("connector-"):]
                if value is None:
                    self._entries.pop(name, None)
                    self._staged.pop(name, None)
                else:
                    entry = self._entries.get(name)
                    if entry is None:
                        # initial_state is written before the config, as Kafka does it
                        target = self._targets.get(name, TargetState.RUNNING)
                        self._entries[name] = ConnectorEntry(dict(value["properties"]), target)
                    else:
                        entry.config = dict(value["properties"])
            elif key.startswith("target-state-"):
                name = key[len("target-state-"):]
                if value is None:
                    self._targets.pop(name, None)
                else:
                    self._targets[name] = value.get("state.v2") or value["state"]
                    if name in self._entries:
                        self._entries[name].target = self._targets[name]
            elif key.startswith("task-"):
                name, _, index = key[len("task-"):].rpartition("-")
                if value is not None:
                    self._staged.setdefault(name, {})[int(index)] = dict(value["properties"])
            elif key.startswith("commit-"):
                name = key[len("commit-"):]
                count = int((value or {}).get("tasks", 0))
                staged = self._staged.pop(name, {})
                if name in self._entries:
                    self._entries[name].task_configs = [staged[i] for i in range(count) if i in staged]
            elif key.startswith("restart-connector-"):
                changed = False
                if self._live and value is not None:
                    request = RestartRequest(key[len("restart-connector-"):],
                                             bool(value.get("include-tasks")),
                                             bool(value.get("only-failed")), value.get("task"))
                    self.on_restart(request)
            else:
                changed = False
        if changed:
            self.on_change()

    def put_connector(self, name: str, config: Mapping[str, str], target: str | None) -> None:
        if target is not None:
            self.log.send(f"target-state-{name}".encode(), dump_json({"state": target,
                                                                   "state.v2": target}), flush=False)
        self.log.send(f"connector-{name}".encode(), dump_json({"properties": dict(config)}))
        self.log.read_to_end()

    def remove_connector(self, name: str) -> None:
        self.log.send(f"connector-{name}".encode(), None, flush=False)
        self.log.send(f"target-state-{name}".encode(), None)
        self.log.read_to_end()

    def put_target_state(self, name: str, target: str) -> None:
        self.log.send(f"target-state-{name}".encode(), dump_json({"state": target, "state.v2": target}))
        self.log.read_to_end()

    def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        for index, config in enumerate(configs):
            self.log.send(f"task-{name}-{index}".encode(), dump_json({"properties": config}), flush=False)
        self.log.send(f"commit-{name}".encode(), dump_json({"tasks": len(configs)}))
        self.log.read_to_end()

    def request_restart(self, request: RestartRequest) -> None:
        self.log.send(f"restart-connector-{request.connector}".encode(), dump_json({
            "include-tasks": request.include_tasks, "only-failed": request.only_failed,
            "task": request.task}))
        self.log.read_to_end()
