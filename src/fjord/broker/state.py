"""The broker's shared state and the topic operations several APIs need (create, delete,
grow, configure), so CreateTopics, auto-creation in Metadata/Produce and the config APIs
all go through one path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker import dynamic_configs
from fjord.config.broker import TOPIC_KEYS, BrokerConfig, topic_config, validate_remote_storage
from fjord.config.definitions import ConfigError
from fjord.coordinator.groups import GroupCoordinator
from fjord.coordinator.producer_ids import ProducerIdManager
from fjord.coordinator.transactions import FILE_NAME as TXN_FILE
from fjord.coordinator.transactions import TransactionCoordinator
from fjord.metadata.security import SecurityMetadata
from fjord.metadata.store import MetadataStore, TopicInfo
from fjord.observability.counters import BrokerCounters
from fjord.observability.loops import LoopRegistry
from fjord.security.authorizer import Authorizer
from fjord.security.quotas import QuotaManager
from fjord.storage.log import LogConfig, PartitionLog
from fjord.storage.logdirs import (
    MetaProperties,
    check_identity,
    holds_partitions,
    new_directory_id,
    write_meta,
)
from fjord.storage.manager import LogManager, TopicLogs
from fjord.storage.remote.manager import RemoteLogManager

log = logging.getLogger("fjord.broker")

_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]+$")
MAX_TOPIC_LENGTH = 249
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


class TopicError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_topic_name(name: str) -> None:
    if not name:
        raise TopicError(ErrorCode.invalid_topic_exception, "Topic name is empty")
    if name in (".", ".."):
        raise TopicError(ErrorCode.invalid_topic_exception, "Topic name cannot be '.' or '..'")
    if len(name) > MAX_TOPIC_LENGTH:
        raise TopicError(ErrorCode.invalid_topic_exception,
                         f"Topic name is longer than {MAX_TOPIC_LENGTH} characters")
    if not _LEGAL_TOPIC.match(name):
        raise TopicError(ErrorCode.invalid_topic_exception,
                         f"Topic name {name!r} is illegal: use ASCII letters, digits, '.', '_', '-'")


class BrokerState:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self._inert_noted: set[str] = set()  # topics whose inert keys were logged once
        self.node_id = config.node_id
        self.started_ms = int(time.time() * 1000)
        self.metrics = BrokerCounters()  # hot-path counters, read by /metrics
        dirs = config.log_dirs
        for directory in dirs:
            directory.mkdir(parents=True, exist_ok=True)
        # Identity first: a dir of another cluster or node is refused before anything in
        # any dir is touched (LogDirError: one line, exit 2).
        cluster, metas = check_identity(dirs, config.get("cluster.id"), self.node_id)
        self.metadata = MetadataStore(dirs, cluster,
                                      expect_existing=bool(metas) and holds_partitions(dirs))
        for directory in dirs:
            if directory not in metas:
                metas[directory] = MetaProperties(self.metadata.cluster_id, self.node_id,
                                                  new_directory_id())
                write_meta(directory, metas[directory])
        present = {meta.directory_id for meta in metas.values()}
        config.load_dynamic(dynamic_configs.stored(self))  # before the logs take their defaults
        self.logs = LogManager(dirs, int(config.get("log.segment.delete.delay.ms")))
        self.logs.load({name: TopicLogs(info.partitions, self.log_config(info), info.topic_id)
                        for name, info in self.metadata.topics.items()},
                       self.metadata.deleted, self.metadata.log_dir_ids - present)
        self.metadata.record_log_dirs(present)
        self._pending_logs: list[TopicInfo] | None = None
        self.producer_ids = ProducerIdManager(self.metadata)
        self.security = SecurityMetadata(self.metadata)
        # None when no authorizer is configured: every check is then one `is None` test.
        self.authorizer: Authorizer | None = (
            Authorizer(config, self.security) if config.get("authorizer.class.name") else None)
        self.quotas = QuotaManager(config, self.security)
        self.host, self.port = "127.0.0.1", 9092  # set by the server once it is bound
        self.on_reconfigure: Callable[[], None] | None = None  # the server's, once it is bound
        self.groups = GroupCoordinator(config, self.metadata, self.logs, self.log_config)
        # The transaction state stays in whichever log dir holds it (log.dirs may be reordered).
        txn_dir = next((d for d in dirs if (d / TXN_FILE).exists()), dirs[0])
        self.transactions = TransactionCoordinator(
            txn_dir, self.producer_ids, self.logs, int(config.get("transaction.max.timeout.ms")),
            self.groups, int(config.get("transactional.id.expiration.ms")))
        self.remote: RemoteLogManager | None = None  # tiered storage (KIP-405), when enabled
        if config.get("remote.log.storage.system.enable"):
            self.remote = RemoteLogManager(config, self.logs, self._topic_id)
        self.loops: LoopRegistry | None = None  # the server's background loops (health)
        self.stopping = False
        self._stop_waiters: set[asyncio.Future[None]] = set()

    # --- shutdown -------------------------------------------------------------------------

    def stop_waiter(self) -> asyncio.Future[None]:
        """A future resolved when shutdown begins: long-polls wait on it beside their data."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.stopping:
            future.set_result(None)
            return future
        self._stop_waiters.add(future)
        future.add_done_callback(self._stop_waiters.discard)
        return future

    def begin_stop(self) -> None:
        self.stopping = True
        for future in list(self._stop_waiters):
            if not future.done():
                future.set_result(None)

    # --- config -------------------------------------------------------------------------

    def topic_config(self, info: TopicInfo) -> dict[str, Any]:
        return topic_config(self.config, TOPIC_KEYS.parse(info.configs, "topic"))

    def log_config(self, info: TopicInfo) -> LogConfig:
        if info.configs.get("preallocate") is not None and info.name not in self._inert_noted:
            self._inert_noted.add(info.name)
            log.info("topic %s: preallocate has no effect on Fjord (segment files are never "
                     "preallocated)", info.name)
        return LogConfig.from_topic(self.topic_config(info))

    def partition(self, topic: str, partition: int) -> PartitionLog | None:
        return self.logs.get(topic, partition)

    def _topic_id(self, topic: str) -> str | None:
        info = self.metadata.topics.get(topic)
        return info.topic_id.hex if info is not None else None

    def log_start_offset(self, plog: PartitionLog) -> int:
        """The first offset of the partition, counting the remote tier."""
        return self.remote.log_start_offset(plog) if self.remote is not None else plog.log_start_offset

    def partition_storage(self, plog: PartitionLog) -> dict[str, Any]:
        """Where a partition's data is: offsets and bytes, local and remote."""
        remote = self.remote
        pm = remote.partition(plog.topic, plog.partition) if remote is not None else None
        return {
            "partition": plog.partition,
            "log_start_offset": self.log_start_offset(plog),
            "local_log_start_offset": plog.log_start_offset,
            "latest_tiered_offset": remote.latest_tiered(plog) if remote is not None else -1,
            "high_watermark": plog.high_watermark,
            "local_size": plog.size,
            "local_segments": len(plog.segments),
            "remote_size": pm.size if pm is not None else 0,
            "remote_segments": len(pm.finished) if pm is not None else 0,
        }

    def _check_remote(self, existing: dict[str, Any], configs: dict[str, Any]) -> None:
        effective = topic_config(self.config, TOPIC_KEYS.parse(configs, "topic"))
        try:
            validate_remote_storage(bool(self.config.get("remote.log.storage.system.enable")),
                                    existing, effective)
        except ConfigError as exc:
            raise TopicError(ErrorCode.invalid_config, str(exc)) from None

    # --- topic operations ---------------------------------------------------------------

    def create_topic(self, name: str, partitions: int, replication: int,
                     configs: dict[str, str | None], validate_only: bool = False) -> TopicInfo | None:
        validate_topic_name(name)
        if name in INTERNAL_TOPICS:
            raise TopicError(ErrorCode.invalid_request,
                             f"Creation of internal topic {name} is prohibited.")
        if name in self.metadata.topics:
            raise TopicError(ErrorCode.topic_already_exists, f"Topic '{name}' already exists.")
        if partitions == -1:
            partitions = int(self.config.get("num.partitions"))
        if replication == -1:
            replication = int(self.config.get("default.replication.factor"))
        if partitions <= 0:
            raise TopicError(ErrorCode.invalid_partitions, "Number of partitions must be larger than 0.")
        if replication <= 0:
            raise TopicError(ErrorCode.invalid_replication_factor,
                             "Replication factor must be larger than 0.")
        if replication > 1:
            raise TopicError(
                ErrorCode.invalid_replication_factor,
                f"Unable to replicate the partition {replication} time(s): "
                "The target replication factor of "
                f"{replication} cannot be reached because only 1 broker(s) are registered.",
            )
        clean = {k: v for k, v in configs.items() if v is not None}
        try:
            TOPIC_KEYS.parse(clean, "topic")
        except ConfigError as exc:
            raise TopicError(ErrorCode.invalid_config, str(exc)) from None
        self._check_remote({}, clean)
        problem = self.logs.can_place(name, range(partitions))
        if problem is not None:
            raise TopicError(ErrorCode.kafka_storage_error, problem)
        if validate_only:
            return None
        try:
            info = self.metadata.add_topic(name, partitions, clean)
            if self._pending_logs is not None:
                self._pending_logs.append(info)
            else:
                self._create_logs(info)
        except OSError as exc:
            log.error("cannot create topic %s: %s", name, exc)
            raise TopicError(ErrorCode.kafka_storage_error, f"Cannot create topic: {exc}") from None
        log.info("created topic %s with %d partition(s)", name, partitions)
        return info

    @contextlib.contextmanager
    def topic_batch(self) -> Iterator[dict[str, str]]:
        """Topics created inside share the metadata fsyncs; their logs are created after
        the metadata is durable, so a crash never leaves directories of an unknown topic.
        The yielded dict is filled on exit with the topics whose logs could not be created
        (name -> reason): those were rolled back."""
        failed: dict[str, str] = {}
        if self._pending_logs is not None:
            yield failed
            return
        self._pending_logs = []
        try:
            with self.metadata.batch():
                yield failed
        finally:
            pending, self._pending_logs = self._pending_logs, None
            for info in pending:
                try:
                    self._create_logs(info)
                except OSError as exc:
                    failed[info.name] = f"Cannot create topic: {exc}"

    def _create_logs(self, info: TopicInfo) -> None:
        """Create a new topic's logs; if that fails, the topic is deleted again (through the
        -delete rename), so metadata and directories never disagree."""
        try:
            self.logs.create(info.name, range(info.partitions), self.log_config(info),
                             info.topic_id)
        except OSError as exc:
            log.error("cannot create the logs of topic %s: %s; rolling it back", info.name, exc)
            self.metadata.delete_topic(info.name)
            self.logs.delete(info.name)
            raise

    def auto_create(self, name: str) -> TopicInfo | None:
        """Create on first use if auto.create.topics.enable; None when not allowed."""
        if not self.config.get("auto.create.topics.enable"):
            return None
        return self.create_topic(name, -1, -1, {})

    def delete_topic(self, name: str) -> None:
        if not self.config.get("delete.topic.enable"):
            raise TopicError(ErrorCode.topic_deletion_disabled, "Topic deletion is disabled.")
        info = self.metadata.topics.get(name)
        if info is None:
            raise TopicError(ErrorCode.unknown_topic_or_partition,
                             "This server does not host this topic-partition.")
        self.metadata.delete_topic(name)
        self.logs.delete(name)
        if self.remote is not None:
            self.remote.topic_deleted(name, info.topic_id.hex, info.partitions)
        self.groups.topic_deleted(name)  # its committed offsets go too, as in Kafka
        self.metrics.forget_topic(name)
        log.info("deleted topic %s", name)

    def add_partitions(self, name: str, count: int, validate_only: bool) -> None:
        info = self.metadata.topics.get(name)
        if info is None:
            raise TopicError(ErrorCode.unknown_topic_or_partition,
                             f"The topic '{name}' does not exist.")
        if count < info.partitions:
            raise TopicError(ErrorCode.invalid_partitions,
                             f"Topic currently has {info.partitions} partitions, which is higher "
                             f"than the requested {count}.")
        if count == info.partitions:
            raise TopicError(ErrorCode.invalid_partitions,
                             f"Topic already has {info.partitions} partitions.")
        problem = self.logs.can_place(name, range(info.partitions, count))
        if problem is not None:
            raise TopicError(ErrorCode.kafka_storage_error, problem)
        if validate_only:
            return
        old = info.partitions
        info.partitions = count
        try:
            self.logs.create(name, range(old, count), self.log_config(info), info.topic_id)
        except OSError as exc:
            info.partitions = old  # metadata and directories must agree
            raise TopicError(ErrorCode.kafka_storage_error, f"Cannot add partitions: {exc}") from None
        self.metadata.update_topic(info)

    def set_topic_configs(self, name: str, configs: dict[str, str], validate_only: bool) -> None:
        info = self.metadata.topics.get(name)
        if info is None:
            raise TopicError(ErrorCode.unknown_topic_or_partition,
                             f"The topic '{name}' does not exist.")
        for key in configs:
            if key not in TOPIC_KEYS:
                raise TopicError(ErrorCode.invalid_config, str(TOPIC_KEYS.unknown(key, "topic")))
        try:
            TOPIC_KEYS.parse(configs, "topic")
        except ConfigError as exc:
            raise TopicError(ErrorCode.invalid_config, str(exc)) from None
        self._check_remote(info.configs, configs)
        if validate_only:
            return
        info.configs = dict(configs)
        self.metadata.update_topic(info)
        self.logs.reconfigure(name, self.log_config(info))

    def close(self) -> None:
        self.logs.close()
        if self.remote is not None:
            self.remote.close()
        self.metadata.close()
