"""Connector and task statuses and active topics: memory and Kafka-topic stores."""

from __future__ import annotations

import threading
import time

from fjord.connect.status import Status, TaskId
from fjord.connect.storage.kafka_log import ClientConfig, KafkaLog, dump_json, load_json


class MemoryStatusBackingStore:
    """Connector and task states and active topics in memory: standalone mode's store, and the
    view the Kafka-topic store keeps of its topic."""

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



class KafkaStatusBackingStore(MemoryStatusBackingStore):
    """`status.storage.topic`, with Kafka's record keys (status-connector-, status-task-,
    status-topic-)."""

    def __init__(self, client_config: ClientConfig, topic: str) -> None:
        super().__init__()
        self.log = KafkaLog(client_config, topic, self._apply)

    def start(self) -> None:
        self.log.start()

    def stop(self) -> None:
        self.log.stop()

    def _apply(self, key_bytes: bytes | None, value_bytes: bytes | None) -> None:
        if key_bytes is None:
            return
        key = key_bytes.decode()
        value = load_json(value_bytes)
        status = None if value is None or "state" not in value else Status(
            value["state"], value.get("worker_id", ""), value.get("trace"),
            int(value.get("generation", 0)))
        if key.startswith("status-connector-"):
            MemoryStatusBackingStore.put_connector(self, key[len("status-connector-"):], status)
        elif key.startswith("status-task-"):
            name, _, index = key[len("status-task-"):].rpartition("-")
            MemoryStatusBackingStore.put_task(self, TaskId(name, int(index)), status)
        elif key.startswith("status-topic-"):
            topic, _, connector = key[len("status-topic-"):].partition(":connector-")
            MemoryStatusBackingStore.put_topic(self, connector, topic, value is not None)

    @staticmethod
    def _status_json(status: Status | None) -> bytes | None:
        if status is None:
            return None
        return dump_json({"state": status.state, "trace": status.trace, "worker_id": status.worker_id,
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
        value = dump_json({"topic": {"name": topic, "connector": connector}}) if active else None
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
