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
from dataclasses import dataclass

from confluent_kafka import KafkaException

from fjord.connect import clients
from fjord.connect.abstract_herder import AbstractHerder
from fjord.connect.group_member import GroupMember
from fjord.connect.plugins import Plugins
from fjord.connect.status import TaskId
from fjord.connect.storage.config import KafkaConfigBackingStore
from fjord.connect.storage.kafka_log import dump_json
from fjord.connect.storage.offsets import KafkaOffsetBackingStore
from fjord.connect.storage.status import KafkaStatusBackingStore
from fjord.connect.worker_config import WorkerConfig

log = logging.getLogger("fjord.connect.distributed")


@dataclass
class Assignment:
    generation: int
    leader: str
    leader_url: str
    members: list[str]


class DistributedHerder(AbstractHerder):
    mode = "distributed"

    def __init__(self, config: WorkerConfig, plugins: Plugins | None = None) -> None:
        self._assignment: Assignment | None = None
        self._member_lock = threading.RLock()
        client_config = config.client_config
        self.kafka_offsets = KafkaOffsetBackingStore(client_config, config.get_str("offset.storage.topic"))
        self.kafka_configs = KafkaConfigBackingStore(client_config, config.get_str("config.storage.topic"))
        super().__init__(config, plugins or Plugins(config.plugin_path), self.kafka_offsets,
                         self.kafka_configs,
                         KafkaStatusBackingStore(client_config, config.get_str("status.storage.topic")))
        self.member = GroupMember(
            config.bootstrap_servers, config.group_id,
            config.get_int("session.timeout.ms"), config.get_int("rebalance.timeout.ms"),
            config.get_int("heartbeat.interval.ms"), self._metadata, self._assign,
            self._on_assigned, self._on_revoked,
            clients.translate(config.client_config("admin")))
        self.url = config.advertised_url()

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
        return dump_json({"version": 0, "url": self.url, "worker_id": self.worker_id})

    def _assign(self, members: list[tuple[str, bytes]]) -> dict[str, bytes]:
        urls = {member: json.loads(data).get("url", "") for member, data in members}
        ordered = sorted(urls)
        leader = self.member.member_id
        body = dump_json({"version": 0, "leader": leader, "leader_url": urls.get(leader, self.url),
                      "members": ordered})
        return {member: body for member in ordered}

    def _on_assigned(self, data: bytes, generation: int, leader: str) -> None:
        doc = json.loads(data) if data else {}
        assignment = Assignment(generation, doc.get("leader", leader), doc.get("leader_url", ""),
                                list(doc.get("members", [])))
        try:
            self.kafka_configs.log.read_to_end()
            self.kafka_offsets.log.read_to_end()
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
