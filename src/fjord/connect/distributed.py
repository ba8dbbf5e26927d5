"""Distributed mode: workers sharing a group.id form one Connect cluster.

State lives in three compacted topics, as in Kafka: `config.storage.topic` (connector configs,
target states, task configs, restart requests), `offset.storage.topic` (source offsets) and
`status.storage.topic` (connector/task states, active topics). Membership comes from Kafka's
group protocol (fjord.connect.group_member, protocol_type "connect").

Assignment: the leader sends every member the sorted member list of the generation; each
worker then owns connector `c` when members[crc32(c) % n] is itself and task `c-i` when
members[(crc32(c) + i) % n] is. That is stable under config changes — a new connector never
moves the others — and changes only with membership, which the eager protocol fences: every
worker stops all its work before it rejoins.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaException

from fjord.connect.herder import (
    ConfigStore,
    ConnectorEntry,
    Herder,
    RestartRequest,
    Status,
    StatusStore,
)
from fjord.connect.kafka_log import KafkaLog
from fjord.connect.offsets import OffsetStore
from fjord.connect.plugins import Plugins
from fjord.connect.worker_config import WorkerConfig
from fjord.connect.worker_task import RUNNING, TaskId

log = logging.getLogger("fjord.connect.distributed")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def _load(value: bytes | None) -> Any:
    return None if value is None else json.loads(value)


class KafkaConfigStore(ConfigStore):
    def __init__(self, herder: DistributedHerder, topic: str) -> None:
        super().__init__()
        self.herder = herder
        self._staged: dict[str, dict[int, dict[str, str]]] = {}
        self._targets: dict[str, str] = {}
        self._live = False
        self.log = KafkaLog(herder._client_config, topic, self._apply)

    def start(self) -> None:
        self.log.start()
        self._live = True

    def stop(self) -> None:
        self.log.stop()

    def _apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        if key_bytes is None:
            return
        key = key_bytes.decode()
        value = _load(value_bytes)
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
                        target = self._targets.get(name, RUNNING)
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
            self.log.send(f"target-state-{name}".encode(), _json({"state": target,
                                                                   "state.v2": target}), flush=False)
        self.log.send(f"connector-{name}".encode(), _json({"properties": dict(config)}))
        self.log.read_to_end()

    def remove_connector(self, name: str) -> None:
        self.log.send(f"connector-{name}".encode(), None, flush=False)
        self.log.send(f"target-state-{name}".encode(), None)
        self.log.read_to_end()

    def put_target_state(self, name: str, target: str) -> None:
        self.log.send(f"target-state-{name}".encode(), _json({"state": target, "state.v2": target}))
        self.log.read_to_end()

    def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        for index, config in enumerate(configs):
            self.log.send(f"task-{name}-{index}".encode(), _json({"properties": config}), flush=False)
        self.log.send(f"commit-{name}".encode(), _json({"tasks": len(configs)}))
        self.log.read_to_end()

    def request_restart(self, request: RestartRequest) -> None:
        self.log.send(f"restart-connector-{request.connector}".encode(), _json({
            "include-tasks": request.include_tasks, "only-failed": request.only_failed,
            "task": request.task}))
        self.log.read_to_end()


class KafkaStatusStore(StatusStore):
    def __init__(self, herder: DistributedHerder, topic: str) -> None:
        super().__init__()
        self.log = KafkaLog(herder._client_config, topic, self._apply)

    def start(self) -> None:
        self.log.start()

    def stop(self) -> None:
        self.log.stop()

    def _apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        if key_bytes is None:
            return
        key = key_bytes.decode()
        value = _load(value_bytes)
        status = None if value is None or "state" not in value else Status(
            value["state"], value.get("worker_id", ""), value.get("trace"),
            int(value.get("generation", 0)))
        if key.startswith("status-connector-"):
            StatusStore.put_connector(self, key[len("status-connector-"):], status)
        elif key.startswith("status-task-"):
            name, _, index = key[len("status-task-"):].rpartition("-")
            StatusStore.put_task(self, TaskId(name, int(index)), status)
        elif key.startswith("status-topic-"):
            topic, _, connector = key[len("status-topic-"):].partition(":connector-")
            StatusStore.put_topic(self, connector, topic, value is not None)

    @staticmethod
    def _status_json(status: Status | None) -> bytes | None:
        if status is None:
            return None
        return _json({"state": status.state, "trace": status.trace, "worker_id": status.worker_id,
                      "generation": status.generation})

    def put_connector(self, name: str, status: Status | None) -> None:
        super().put_connector(name, status)
        self.log.send(f"status-connector-{name}".encode(), self._status_json(status), flush=False)

    def put_task(self, task: TaskId, status: Status | None) -> None:
        super().put_task(task, status)
        self.log.send(f"status-task-{task.connector}-{task.task}".encode(),
                      self._status_json(status), flush=False)

    def put_topic(self, connector: str, topic: str, active: bool) -> None:
        super().put_topic(connector, topic, active)
        value = _json({"topic": {"name": topic, "connector": connector}}) if active else None
        self.log.send(f"status-topic-{topic}:connector-{connector}".encode(), value, flush=False)

    def reset_topics(self, connector: str) -> None:
        for topic in self.connector_topics(connector):
            self.put_topic(connector, topic, False)
        super().reset_topics(connector)
        self.log.flush()

    def remove_connector_all(self, name: str) -> None:
        tasks = [t for t in list(self.tasks) if t.connector == name]
        super().remove_connector_all(name)
        self.log.send(f"status-connector-{name}".encode(), None, flush=False)
        for task in tasks:
            self.log.send(f"status-task-{task.connector}-{task.task}".encode(), None, flush=False)
        self.log.flush()


class KafkaOffsetStore(OffsetStore):
    def __init__(self, herder_client_config: Any, topic: str) -> None:
        super().__init__()
        self.log = KafkaLog(herder_client_config, topic, self._read)

    def start(self) -> None:
        self.log.start()

    def stop(self) -> None:
        self.log.stop()

    def _read(self, key: bytes | None, value: bytes | None) -> None:
        if key is not None:
            self._apply(key.decode(), _load(value))

    def put(self, connector: str, offsets: Mapping[str, Mapping[str, Any] | None]) -> None:
        for key, value in offsets.items():
            self.log.send(key.encode(), None if value is None else _json(dict(value)), flush=False)
            self._apply(key, value)
        self.log.flush()


@dataclass
class Assignment:
    generation: int
    leader: str
    leader_url: str
    members: list[str]


class DistributedHerder(Herder):
    mode = "distributed"

    def __init__(self, config: WorkerConfig, plugins: Plugins) -> None:
        self._assignment: Assignment | None = None
        self._member_lock = threading.RLock()
        # Stores need the worker's Kafka client settings before the Herder exists.
        self._config = config
        offset_store = KafkaOffsetStore(self._client_config, config.get_str("offset.storage.topic"))
        super().__init__(config, plugins, offset_store)
        self.config_store = KafkaConfigStore(self, config.get_str("config.storage.topic"))
        self.status_store = KafkaStatusStore(self, config.get_str("status.storage.topic"))
        self.config_store.on_change = self.request_reconcile
        self.config_store.on_restart = self._queue_restart
        from fjord.connect import clients
        from fjord.connect.group_member import GroupMember
        self.member = GroupMember(
            config.bootstrap_servers, config.group_id,
            config.get_int("session.timeout.ms"), config.get_int("rebalance.timeout.ms"),
            config.get_int("heartbeat.interval.ms"), self._metadata, self._assign,
            self._on_assigned, self._on_revoked,
            clients.translate(config.client_config("admin")))
        self.url = config.advertised_url()

    def _client_config(self, kind: str) -> dict[str, Any]:
        return self._config.client_config(kind)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        config = self.config
        topics = (("config.storage.topic", "config.storage.replication.factor", 1),
                  ("offset.storage.topic", "offset.storage.replication.factor",
                   config.get_int("offset.storage.partitions")),
                  ("status.storage.topic", "status.storage.replication.factor",
                   config.get_int("status.storage.partitions")))
        deadline = time.monotonic() + 120
        self._wait_for_listener(deadline)
        for topic_key, factor_key, partitions in topics:
            while True:
                try:
                    self.worker.ensure_topic(config.get_str(topic_key), config.get_int(factor_key),
                                             partitions, {"cleanup.policy": "compact"})
                    break
                except KafkaException as exc:
                    # The broker may still be starting (as under `fjord up`): wait for it.
                    if time.monotonic() > deadline:
                        raise
                    log.info("waiting for Kafka at %s: %s", config.bootstrap_servers, exc)
                    time.sleep(1.0)
        super().start()
        self.member.start()

    def stop(self) -> None:
        self.member.stop()
        super().stop()

    def _wait_for_listener(self, deadline: float) -> None:
        """Until a bootstrap server accepts TCP: a broker started beside us (`fjord up`) may
        still be coming up, and a client made now would only print connection errors."""
        servers = [s.strip().rsplit(":", 1) for s in self.config.bootstrap_servers.split(",")]
        while time.monotonic() < deadline:
            for host, port in servers:
                try:
                    with socket.create_connection((host, int(port)), timeout=1):
                        return
                except (OSError, ValueError):
                    continue
            time.sleep(0.2)

    # ---------------------------------------------------------------- group callbacks

    def _metadata(self) -> bytes:
        return _json({"version": 0, "url": self.url, "worker_id": self.worker_id})

    def _assign(self, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        urls = {member: json.loads(data).get("url", "") for member, data in members}
        ordered = sorted(urls)
        leader = self.member.member_id
        body = _json({"version": 0, "leader": leader, "leader_url": urls.get(leader, self.url),
                      "members": ordered})
        return {member: body for member in ordered}

    def _on_assigned(self, data: bytes, generation: int, leader: str) -> None:
        doc = json.loads(data) if data else {}
        assignment = Assignment(generation, doc.get("leader", leader), doc.get("leader_url", ""),
                                list(doc.get("members", [])))
        try:
            self.config_store.log.read_to_end()  # type: ignore[attr-defined]
            self.offset_store.log.read_to_end()  # type: ignore[attr-defined]
        except TimeoutError:
            log.warning("could not catch up with the internal topics before starting work")
        with self._member_lock:
            self._assignment = assignment
            self.generation = generation
        log.info("Joined group at generation %d with %d member(s); leader %s", generation,
                 len(assignment.members), assignment.leader_url)
        self.request_reconcile()

    def _on_revoked(self) -> None:
        with self._member_lock:
            self._assignment = None
            self.worker.stop_tasks(list(self.worker.tasks))
            self._task_failures.clear()
            for name in list(self.worker.connectors):
                self.worker.stop_connector(name)

    # ---------------------------------------------------------------- ownership

    def tick(self) -> None:
        with self._member_lock:
            super().tick()

    def ready(self) -> bool:
        return self._assignment is not None

    def _owner(self, key: str, offset: int) -> str | None:
        assignment = self._assignment
        if assignment is None or not assignment.members:
            return None
        index = (zlib.crc32(key.encode()) + offset) % len(assignment.members)
        return assignment.members[index]

    def owns_connector(self, name: str) -> bool:
        return self._owner(name, 0) == self.member.member_id

    def owns_task(self, task: TaskId) -> bool:
        return self._owner(task.connector, task.task) == self.member.member_id

    def is_leader(self) -> bool:
        assignment = self._assignment
        return assignment is not None and assignment.leader == self.member.member_id

    def leader_url(self) -> str | None:
        assignment = self._assignment
        return assignment.leader_url if assignment is not None else None

    def wait_for_reconcile(self, timeout: float = 10.0) -> None:
        if self.ready():
            super().wait_for_reconcile(timeout)
