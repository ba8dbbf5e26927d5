"""The remote log manager (KIP-405's RemoteLogManager): copies rolled segments of tiered
topics to the remote store, expires remote segments by total retention, cleans up after
crashes and deleted topics, and serves reads below the local log start.

One background loop (the broker's loop runner) ticks every
`remote.log.manager.task.interval.ms`; the blocking work
(uploads, deletions, metadata fsyncs) runs in a thread pool of
`remote.log.manager.thread.pool.size`, and fetches from the remote tier in another of
`remote.log.reader.threads`, so neither ever blocks the event loop. A partition whose store
calls fail backs off exponentially (`remote.log.manager.task.retry.backoff.*`) and keeps its
local segments meanwhile: local retention only deletes what is safely remote.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fjord.config.broker import BrokerConfig
from fjord.objectstore.location import parse_location
from fjord.objectstore.store import ObjectStore
from fjord.storage.log import SNAPSHOT, PartitionLog
from fjord.storage.manager import LogManager
from fjord.storage.remote.chunk_cache import ChunkCache
from fjord.storage.remote.metadata import (
    DELETED_MARK,
    DIRECTORY,
    PartitionMetadata,
    RemoteLogSegmentMetadata,
    SegmentState,
    mark_topic_deleted,
    new_segment_id,
    partition_path,
)
from fjord.storage.remote.reader import RemoteRead, RemoteReader
from fjord.storage.remote.segment_data import LogSegmentData
from fjord.storage.remote.storage_manager import RemoteStorageError, RemoteStorageManager

log = logging.getLogger("fjord.storage.remote")

T = TypeVar("T")
CACHE_DIR = "remote-log-cache"


@dataclass
class RemoteCounters:
    """Plain ints read at scrape time; named after Kafka's RemoteLogManager metrics."""

    remote_copy_requests: int = 0  # RemoteCopyRequestsPerSec
    remote_copy_bytes: int = 0  # RemoteCopyBytesPerSec
    failed_remote_copy_requests: int = 0  # FailedRemoteCopyRequestsPerSec
    remote_fetch_requests: int = 0  # RemoteFetchRequestsPerSec
    remote_fetch_bytes: int = 0  # RemoteFetchBytesPerSec
    failed_remote_fetch_requests: int = 0  # FailedRemoteFetchRequestsPerSec
    remote_delete_requests: int = 0  # RemoteDeleteRequestsPerSec
    failed_remote_delete_requests: int = 0  # FailedRemoteDeleteRequestsPerSec


def open_remote_store(config: BrokerConfig) -> tuple[ObjectStore, str]:
    """The store named by rsm.config.uri and the key prefix inside it."""
    from fjord.objectstore.local import LocalStore
    from fjord.objectstore.s3 import S3Options, S3Store

    location = parse_location(str(config.get("rsm.config.uri")))
    if location.scheme == "file":
        return LocalStore(location.bucket), location.prefix
    options = S3Options(
        endpoint=config.get("rsm.config.s3.endpoint.url") or None,
        region=str(config.get("rsm.config.s3.region") or "us-east-1"),
        access_key=config.get("rsm.config.s3.access.key.id") or None,
        secret_key=config.get("rsm.config.s3.secret.access.key") or None,
        path_style=bool(config.get("rsm.config.s3.path.style.access")),
    )
    return S3Store(location.bucket, options), location.prefix


class _Backoff:
    def __init__(self, first_ms: int, max_ms: int) -> None:
        self.first = first_ms / 1000
        self.max = max_ms / 1000
        self.failures = 0
        self.not_before = 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.not_before

    def failed(self) -> float:
        self.failures += 1
        delay = min(self.max, self.first * 2 ** (self.failures - 1)) * random.uniform(0.8, 1.2)
        self.not_before = time.monotonic() + delay
        return delay

    def succeeded(self) -> int:
        failures, self.failures, self.not_before = self.failures, 0, 0.0
        return failures


class RemoteLogManager:
    def __init__(self, config: BrokerConfig, logs: LogManager,
                 topic_id: Callable[[str], str | None]) -> None:
        self.config = config
        self.logs = logs
        self.topic_id = topic_id
        self.node_id = config.node_id
        # The remote metadata stays in whichever log dir holds it (log.dirs may be reordered).
        self.root = next((d for d in config.log_dirs if (d / DIRECTORY).is_dir()),
                         config.log_dirs[0])
        store, prefix = open_remote_store(config)
        self.rsm = RemoteStorageManager(store, prefix)
        cache_path = config.get("rsm.config.fetch.chunk.cache.path")
        self.cache = ChunkCache(Path(cache_path) if cache_path else self.root / CACHE_DIR,
                                int(config.get("rsm.config.fetch.chunk.cache.size")))
        self.reader = RemoteReader(self.rsm, self.cache, int(config.get("rsm.config.chunk.size")))
        self.interval = int(config.get("remote.log.manager.task.interval.ms")) / 1000
        self.backoff_ms = (int(config.get("remote.log.manager.task.retry.backoff.ms")),
                           int(config.get("remote.log.manager.task.retry.backoff.max.ms")))
        self.max_pending_reads = int(config.get("remote.log.reader.max.pending.tasks"))
        self._pool = ThreadPoolExecutor(int(config.get("remote.log.manager.thread.pool.size")),
                                        thread_name_prefix="remote-log-manager")
        self._readers = ThreadPoolExecutor(int(config.get("remote.log.reader.threads")),
                                           thread_name_prefix="remote-log-reader")
        self._pending_reads = 0
        self.partitions: dict[tuple[str, int], PartitionMetadata] = {}
        self._backoffs: dict[tuple[str, int], _Backoff] = {}
        self.counters = RemoteCounters()
        self._orphans_reported: set[Path] = set()
        for (topic, partition), plog in list(logs.logs.items()):
            self._attach(topic, partition, plog, only_if_present=not plog.config.remote_storage)

    # --- partitions ---------------------------------------------------------------------

    def _attach(self, topic: str, partition: int, plog: PartitionLog,
                only_if_present: bool = False) -> PartitionMetadata | None:
        key = (topic, partition)
        found = self.partitions.get(key)
        if found is not None:
            return found
        topic_id = self.topic_id(topic)
        if topic_id is None:
            return None
        path = partition_path(self.root, topic, topic_id, partition)
        if only_if_present and not path.exists():
            return None
        pm = PartitionMetadata(path, topic, topic_id, partition)
        self.partitions[key] = pm
        plog.remote_upto = pm.copied_upto
        return pm

    def partition(self, topic: str, partition: int) -> PartitionMetadata | None:
        return self.partitions.get((topic, partition))

    def log_start_offset(self, plog: PartitionLog) -> int:
        """The partition's first offset, local or remote (ListOffsets EARLIEST)."""
        pm = self.partitions.get((plog.topic, plog.partition))
        earliest = pm.earliest() if pm is not None else None
        if earliest is not None and earliest < plog.log_start_offset:
            return earliest
        return plog.log_start_offset

    def latest_tiered(self, plog: PartitionLog) -> int:
        """ListOffsets LATEST_TIERED (-5): the highest offset safely remote, -1 if none."""
        pm = self.partitions.get((plog.topic, plog.partition))
        return pm.copied_upto - 1 if pm is not None and pm.finished else -1

    def remote_size(self, plog: PartitionLog) -> int:
        pm = self.partitions.get((plog.topic, plog.partition))
        return pm.size if pm is not None else 0

    def delete_records(self, plog: PartitionLog, offset: int) -> None:
        """DeleteRecords below the local start: the remote start moves (durably) and the
        background task deletes the remote segments wholly below it."""
        pm = self.partitions.get((plog.topic, plog.partition))
        if pm is not None:
            pm.set_log_start_offset(offset)

    def topic_deleted(self, topic: str, topic_id: str, partitions: int) -> None:
        """Mark the topic's remote data for deletion; the background task deletes it."""
        for partition in range(partitions):
            self.partitions.pop((topic, partition), None)
            self._backoffs.pop((topic, partition), None)
        mark_topic_deleted(self.root, topic, topic_id)

    # --- reads --------------------------------------------------------------------------

    def readable(self, plog: PartitionLog, offset: int) -> bool:
        """Whether a fetch at `offset` (below the local log start) is served remotely."""
        return offset < plog.log_start_offset and self.log_start_offset(plog) <= offset

    async def read(self, plog: PartitionLog, offset: int, max_bytes: int, max_offset: int,
                   whole_first: bool) -> RemoteRead | None:
        """Batches from the remote tier; None when no remote segment holds `offset` or a
        later one below the local start (the caller reads locally). Raises RemoteStorageError."""
        pm = self.partitions.get((plog.topic, plog.partition))
        meta = pm.segment_for(offset) if pm is not None else None
        if meta is None or meta.start_offset >= plog.log_start_offset:
            return None
        if self._pending_reads >= self.max_pending_reads:
            return RemoteRead(b"", [])  # the client simply fetches again
        self._pending_reads += 1
        self.counters.remote_fetch_requests += 1
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._readers, self.reader.read, meta, offset, max_bytes, max_offset, whole_first)
        except RemoteStorageError as exc:
            self.counters.failed_remote_fetch_requests += 1
            log.warning("remote read of %s-%d at offset %d failed: %s", plog.topic, plog.partition,
                        offset, exc)
            raise
        finally:
            self._pending_reads -= 1
        self.counters.remote_fetch_bytes += len(result.data)
        return result

    async def offset_for_timestamp(self, plog: PartitionLog, timestamp: int) -> tuple[int, int] | None:
        """ListOffsets by timestamp over the remote segments (None: look locally)."""
        pm = self.partitions.get((plog.topic, plog.partition))
        if pm is None:
            return None
        start = self.log_start_offset(plog)
        for meta in pm.finished:
            if meta.end_offset < start or meta.max_timestamp < timestamp:
                continue
            if meta.start_offset >= plog.log_start_offset:
                return None
            found = await asyncio.get_running_loop().run_in_executor(
                self._readers, self.reader.offset_for_timestamp, meta, timestamp, start)
            if found is not None:
                return found
        return None

    # --- the background task ------------------------------------------------------------

    def background(self) -> list[tuple[str, float, Callable[[], object]]]:
        """The loop the broker runs for the remote tier: (name, interval s, tick)."""
        return [("remote-log-manager", self.interval, self.run_once)]

    async def run_once(self) -> None:
        try:
            await self._delete_marked_topics()
        except RemoteStorageError as exc:
            log.warning("deleting the remote data of a deleted topic failed (retried): %s", exc)
        for (topic, partition), plog in list(self.logs.logs.items()):
            if plog.config.remote_storage:
                self._attach(topic, partition, plog)
        keys = [k for k in self.partitions if self.logs.get(*k) is not None]
        await asyncio.gather(*(self._process(key) for key in keys))

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _process(self, key: tuple[str, int]) -> None:
        backoff = self._backoffs.setdefault(key, _Backoff(*self.backoff_ms))
        if not backoff.ready():
            return
        try:
            await self._process_partition(key)
        except RemoteStorageError as exc:
            delay = backoff.failed()
            log.warning("remote tier of %s-%d: %s (failure %d, retrying in %.1fs; local segments "
                        "are kept until copied)", key[0], key[1], exc, backoff.failures, delay)
            return
        failures = backoff.succeeded()
        if failures:
            log.info("remote tier of %s-%d works again after %d failed attempt(s)",
                     key[0], key[1], failures)

    async def _process_partition(self, key: tuple[str, int]) -> None:
        pm = self.partitions.get(key)
        plog = self.logs.get(*key)
        if pm is None or plog is None:
            return
        for meta in pm.unfinished():  # what a crash (or a failed copy) left behind
            if meta.state is SegmentState.COPY_SEGMENT_STARTED:
                log.info("removing the partial copy %s of segment %d of %s-%d left by an "
                         "interrupted upload; the segment is copied again", meta.segment_id,
                         meta.start_offset, pm.topic, pm.partition)
            await self._delete_segment(pm, meta)
        config = plog.config
        if not config.remote_storage:
            # KIP-950: turned off with remote.log.delete.on.disable=true: the data goes.
            for meta in list(pm.finished):
                await self._delete_segment(pm, meta)
            plog.remote_upto = 0
            if self.partitions.get(key) is pm and not pm.segments:
                del self.partitions[key]
                await self._run(_remove_file, pm.path)
            return
        if config.tiered:
            while (data := self._next_to_copy(plog, pm)) is not None:
                if self.partitions.get(key) is not pm:
                    data.close()
                    return  # the topic was deleted meanwhile
                await self._copy(plog, pm, data)
        await self._expire(plog, pm)
        plog.remote_upto = pm.copied_upto

    # --- copying ------------------------------------------------------------------------

    def _next_to_copy(self, plog: PartitionLog, pm: PartitionMetadata) -> LogSegmentData | None:
        """The oldest rolled segment not yet remote whose records are all decided (below the
        last stable offset), captured on the event loop."""
        copied = pm.copied_upto
        stable = plog.last_stable_offset
        for segment in plog.segments[:-1]:
            if segment.next_offset <= copied or segment.base_offset < copied or segment.size == 0:
                continue
            if segment.next_offset > stable or segment.fd < 0:
                return None
            first, end = segment.base_offset, segment.next_offset
            return LogSegmentData(
                base_offset=first, end_offset=end - 1, max_timestamp=segment.max_timestamp,
                size=segment.size, fd=os.dup(segment.fd),
                index_offsets=list(segment.index_offsets),
                index_positions=list(segment.index_positions),
                time_stamps=list(segment.time_stamps), time_offsets=list(segment.time_offsets),
                aborted=[(pid, f, last) for pid, f, last in plog.producers.aborted
                         if last >= first and f < end],
                producer_snapshot=_read_snapshot(plog.directory / SNAPSHOT),
            )
        return None

    async def _copy(self, plog: PartitionLog, pm: PartitionMetadata, data: LogSegmentData) -> None:
        meta = RemoteLogSegmentMetadata(
            segment_id=new_segment_id(), topic=pm.topic, topic_id=pm.topic_id,
            partition=pm.partition, start_offset=data.base_offset, end_offset=data.end_offset,
            max_timestamp=data.max_timestamp, segment_size=data.size,
            state=SegmentState.COPY_SEGMENT_STARTED, event_timestamp=int(time.time() * 1000),
            broker_id=self.node_id, leader_epochs={"0": data.base_offset})
        self.counters.remote_copy_requests += 1
        try:
            await self._run(pm.put, meta)
        except OSError as exc:
            data.close()
            raise RemoteStorageError(f"cannot record a remote copy: {exc}") from exc

        def upload() -> RemoteLogSegmentMetadata:
            try:
                return self.rsm.copy_log_segment_data(meta, data)
            finally:
                data.close()

        started = time.monotonic()
        try:
            done = await self._run(upload)
        except RemoteStorageError:
            self.counters.failed_remote_copy_requests += 1
            raise
        await self._run(pm.put, done.with_state(SegmentState.COPY_SEGMENT_FINISHED))
        plog.remote_upto = pm.copied_upto
        self.counters.remote_copy_bytes += done.segment_size
        log.info("copied segment %d-%d of %s-%d to the remote tier (%d bytes in %.2fs)",
                 done.start_offset, done.end_offset, pm.topic, pm.partition, done.segment_size,
                 time.monotonic() - started)

    # --- deleting -----------------------------------------------------------------------

    async def _delete_segment(self, pm: PartitionMetadata, meta: RemoteLogSegmentMetadata) -> None:
        if meta.state is not SegmentState.DELETE_SEGMENT_STARTED:
            meta = meta.with_state(SegmentState.DELETE_SEGMENT_STARTED)
            await self._run(pm.put, meta)
        self.reader.forget(meta.segment_id)
        self.counters.remote_delete_requests += 1
        try:
            await self._run(self.rsm.delete_log_segment_data, meta)
        except RemoteStorageError:
            self.counters.failed_remote_delete_requests += 1
            raise
        await self._run(pm.put, meta.with_state(SegmentState.DELETE_SEGMENT_FINISHED))

    async def _expire(self, plog: PartitionLog, pm: PartitionMetadata) -> None:
        """Total retention (retention.ms / retention.bytes over local + remote), and the log
        start moved by DeleteRecords."""
        config = plog.config
        doomed: list[RemoteLogSegmentMetadata] = []
        remaining = list(pm.finished)
        while remaining and remaining[0].end_offset < pm.log_start_offset:
            doomed.append(remaining.pop(0))
        if config.delete and config.retention_ms >= 0:
            now = int(time.time() * 1000)
            while remaining and now - remaining[0].max_timestamp > config.retention_ms:
                doomed.append(remaining.pop(0))
        if config.delete and config.retention_bytes >= 0:
            local_start = plog.log_start_offset
            total = plog.size + sum(m.segment_size for m in remaining if m.end_offset < local_start)
            while (remaining and remaining[0].end_offset < local_start
                   and total - remaining[0].segment_size >= config.retention_bytes):
                total -= remaining[0].segment_size
                doomed.append(remaining.pop(0))
        for meta in doomed:
            if meta.end_offset + 1 > pm.log_start_offset:
                await self._run(pm.set_log_start_offset, meta.end_offset + 1)
            await self._delete_segment(pm, meta)
            log.info("remote retention deleted segment %d-%d of %s-%d", meta.start_offset,
                     meta.end_offset, pm.topic, pm.partition)

    async def _delete_marked_topics(self) -> None:
        base = self.root / DIRECTORY
        if not base.is_dir():
            return
        for directory in sorted(base.iterdir()):
            if not (directory / DELETED_MARK).exists():
                topic, _, topic_id = directory.name.rpartition("-")
                if self.topic_id(topic) != topic_id and directory not in self._orphans_reported:
                    self._orphans_reported.add(directory)
                    log.warning("%s holds remote data of a topic this broker does not know and "
                                "that was not marked deleted; left alone (delete the objects "
                                "under %s%s/ and the directory by hand if it is not needed)",
                                directory, self.rsm.prefix, directory.name)
                continue
            for path in sorted(directory.glob("*.jsonl")):
                topic_dir = directory.name
                topic, _, topic_id = topic_dir.rpartition("-")
                pm = PartitionMetadata(path, topic, topic_id, int(path.stem))
                for meta in list(pm.segments.values()):
                    await self._delete_segment(pm, meta)
                await self._run(_remove_file, path)
            await self._run(shutil.rmtree, directory, True)
            log.info("deleted the remote data of deleted topic %s", directory.name)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._readers.shutdown(wait=False, cancel_futures=True)
        self.rsm.close()


def _read_snapshot(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)
