"""Kafka clients of the clusters the console shows, one set per cluster, reused across pages.

Every page talks to a cluster through the Kafka protocol only (AdminClient, a producer, short-
lived consumers), so the console works the same against a local Fjord cluster and a registered
Apache Kafka, MSK or Redpanda cluster.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from fjord.console.schemas import AvroDecoder
from fjord.control.external import client_config
from fjord.control.model import Cluster

log = logging.getLogger("fjord.console")

TIMEOUT = 15.0
METADATA_TTL = 5.0
METADATA_STALE = 60.0


class ClusterClients:
    def __init__(self, cluster: Cluster) -> None:
        self.config: dict[str, Any] = client_config(cluster)
        self.admin = AdminClient(self.config)
        self._producer: Producer | None = None
        self.avro = AvroDecoder(cluster.schema_registry_url) if cluster.schema_registry_url else None
        self._lock = threading.Lock()
        self._metadata: tuple[float, Any] | None = None
        self._refreshing = False

    def metadata(self) -> Any:
        """The whole cluster's Metadata. With 10,000 partitions it is the costliest request a
        page makes, so an answer younger than METADATA_TTL is reused, and one younger than
        METADATA_STALE is served while a background refresh replaces it."""
        with self._lock:
            cached = self._metadata
            age = time.monotonic() - cached[0] if cached is not None else None
            if cached is not None and age is not None and METADATA_TTL <= age < METADATA_STALE \
                    and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh_quietly, daemon=True, name="console-metadata").start()
        if cached is not None and age is not None and age < METADATA_STALE:
            return cached[1]
        return self._refresh()

    def _refresh_quietly(self) -> None:
        try:
            self._refresh()
        except Exception as exc:  # the next page will ask again, and show the error itself
            log.warning("refreshing the metadata of %s failed: %s", self.config.get("bootstrap.servers"), exc)

    def _refresh(self) -> Any:
        try:
            fresh = self.admin.list_topics(timeout=TIMEOUT)
            with self._lock:
                self._metadata = (time.monotonic(), fresh)
            return fresh
        finally:
            with self._lock:
                self._refreshing = False

    def changed(self) -> None:
        """Topics were created, deleted or grown: the next page asks the cluster again."""
        with self._lock:
            self._metadata = None

    @property
    def producer(self) -> Producer:
        with self._lock:
            if self._producer is None:
                self._producer = Producer({**self.config, "acks": "all", "linger.ms": 0})
            return self._producer


class ClientCache:
    def __init__(self) -> None:
        self._clients: dict[tuple[str, str], ClusterClients] = {}
        self._lock = threading.Lock()

    def get(self, cluster: Cluster) -> ClusterClients:
        key = (cluster.arn, cluster.bootstrap)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = ClusterClients(cluster)
            return self._clients[key]
