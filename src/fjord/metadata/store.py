"""The cluster's metadata on one node: cluster id, topics (ids, partitions, configs), and
the producer-id high-water mark. One JSON document, replaced atomically and fsynced on
every change, because topic admin is rare and must survive kill -9.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "fjord-metadata.json"


@dataclass
class TopicInfo:
    name: str
    topic_id: uuid.UUID
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)
    internal: bool = False


def new_cluster_id() -> str:
    """Kafka's form: a base64url UUID without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class MetadataStore:
    def __init__(self, directory: Path, cluster_id: str | None = None) -> None:
        self.path = directory / FILE_NAME
        self.cluster_id = cluster_id or new_cluster_id()
        self.topics: dict[str, TopicInfo] = {}
        self.next_producer_id = 1000
        self.extra: dict[str, Any] = {}
        if self.path.exists():
            self._load(cluster_id)
        else:
            directory.mkdir(parents=True, exist_ok=True)
            self.save()

    def _load(self, wanted_cluster: str | None) -> None:
        data = json.loads(self.path.read_text())
        if wanted_cluster and data["cluster_id"] != wanted_cluster:
            raise ValueError(
                f"{self.path} belongs to cluster {data['cluster_id']}, not {wanted_cluster}: "
                "point log.dirs at an empty directory or drop cluster.id"
            )
        self.cluster_id = data["cluster_id"]
        self.next_producer_id = int(data.get("next_producer_id", 1000))
        self.extra = dict(data.get("extra", {}))
        for raw in data["topics"]:
            info = TopicInfo(
                raw["name"], uuid.UUID(raw["id"]), int(raw["partitions"]),
                dict(raw.get("configs", {})), bool(raw.get("internal", False)),
            )
            self.topics[info.name] = info

    def save(self) -> None:
        data = {
            "cluster_id": self.cluster_id,
            "next_producer_id": self.next_producer_id,
            "extra": self.extra,
            "topics": [
                {"name": t.name, "id": str(t.topic_id), "partitions": t.partitions,
                 "configs": t.configs, "internal": t.internal}
                for t in self.topics.values()
            ],
        }
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def by_id(self, topic_id: uuid.UUID) -> TopicInfo | None:
        for info in self.topics.values():
            if info.topic_id == topic_id:
                return info
        return None

    def add_topic(self, name: str, partitions: int, configs: dict[str, str],
                  internal: bool = False) -> TopicInfo:
        info = TopicInfo(name, uuid.uuid4(), partitions, dict(configs), internal)
        self.topics[name] = info
        try:
            self.save()
        except OSError:
            del self.topics[name]  # memory and disk must agree
            raise
        return info

    def allocate_producer_ids(self, count: int = 1) -> int:
        first = self.next_producer_id
        self.next_producer_id += count
        self.save()
        return first
