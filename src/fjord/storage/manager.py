"""All partition logs of a broker across its log.dirs, plus the per-directory files Kafka
keeps beside them: a clean-shutdown marker, the log-start-offset and recovery-point
checkpoints, and the `-delete` directories of deleted topics.

The rule this module keeps: a directory is only ever deleted when it can be proven to be a
deleted topic of this cluster (its `partition.metadata` names a topic id the metadata
recorded as deleted), and then only after `file.delete.delay.ms`, as Kafka does. Anything
else that is not a live partition is logged once and left alone.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from fjord.fsutil import fsync_dir
from fjord.storage.checkpoints import LOG_START, RECOVERY_POINT, read_checkpoint, write_checkpoint
from fjord.storage.log import LogConfig, PartitionLog, dir_name
from fjord.storage.logdirs import (
    PARTITION_METADATA,
    LogDirError,
    deleted_name,
    only_own_files,
    parse_deleted_dir,
    parse_partition_dir,
    read_topic_id,
    write_topic_id,
)

log = logging.getLogger("fjord.storage")

CLEAN_SHUTDOWN = ".kafka_cleanshutdown"


@dataclass(frozen=True)
class TopicLogs:
    """What the metadata says a topic's logs must be."""

    partitions: int
    config: LogConfig
    topic_id: uuid.UUID


_POOL: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fjord-logdir")
    return _POOL


class LogManager:
    def __init__(self, dirs: list[Path], delete_delay_ms: int = 60000) -> None:
        self.dirs = dirs
        self.delete_delay = delete_delay_ms / 1000
        self.logs: dict[tuple[str, int], PartitionLog] = {}
        self.topic_ids: dict[str, uuid.UUID] = {}
        self.doomed: dict[Path, float] = {}  # -delete directories -> when they may go
        self._counts: dict[Path, int] = {d: 0 for d in dirs}
        self.clean = True
        for directory in dirs:
            directory.mkdir(parents=True, exist_ok=True)
            marker = directory / CLEAN_SHUTDOWN
            if marker.exists():
                marker.unlink()
            elif any(child.is_dir() for child in directory.iterdir()):
                self.clean = False
        self._starts: dict[tuple[str, int], int] = {}
        self._recovery: dict[tuple[str, int], int] = {}
        for directory in dirs:
            self._starts.update(read_checkpoint(directory / LOG_START))
            self._recovery.update(read_checkpoint(directory / RECOVERY_POINT))

    # --- loading ------------------------------------------------------------------------

    def load(self, wanted: dict[str, TopicLogs], deleted: Iterable[uuid.UUID],
             absent_dirs: Iterable[str] = ()) -> None:
        """Open the logs of known topics; schedule deleted topics' directories for removal;
        leave everything else alone (logged once). Refuses (LogDirError) what it cannot
        resolve without guessing: a partition in two dirs, or one in none while a log dir
        this broker had before (`absent_dirs`, directory ids) is not in log.dirs. With every
        known log dir present, a partition in none of them was never created (a crash right
        after its topic was recorded) and is created empty."""
        gone = set(deleted)
        found: dict[tuple[str, int], Path] = {}
        for directory in self.dirs:
            with os.scandir(directory) as entries:  # names only: no Path per entry to sort
                names = sorted(entry.name for entry in entries if entry.is_dir())
            for name in names:
                self._classify(directory / name, wanted, gone, found)
        missing = []
        present: list[tuple[tuple[str, int], Path, LogConfig]] = []
        for topic, spec in wanted.items():
            self.topic_ids[topic] = spec.topic_id
            for partition in range(spec.partitions):
                key = (topic, partition)
                path = found.get(key)
                if path is None:
                    missing.append(key)
                    continue
                self._counts[path.parent] = self._counts.get(path.parent, 0) + 1
                present.append((key, path, spec.config))

        absent = sorted(absent_dirs)
        if missing and absent:
            topic, partition = missing[0]
            raise LogDirError(
                f"partition {topic}-{partition} (and {len(missing) - 1} more) is in none of "
                f"log.dirs ({', '.join(map(str, self.dirs))}) and log dir(s) with directory.id "
                f"{', '.join(absent)} are missing: add them back to log.dirs")

        def open_one(item: tuple[tuple[str, int], Path, LogConfig]) -> PartitionLog:
            (topic, partition), path, config = item
            return PartitionLog.open(path, topic, partition, config, self.clean,
                                     self._starts.get((topic, partition), 0),
                                     self._recovery.get((topic, partition), 0))

        # Opening is mostly file-system calls, which overlap well across a few threads.
        for (key, _path, _config), plog in zip(present, _pool().map(open_one, present),
                                               strict=True):
            self.logs[key] = plog
        by_topic: dict[str, list[int]] = {}
        for topic, partition in missing:
            by_topic.setdefault(topic, []).append(partition)
        for topic, partitions in by_topic.items():
            log.warning("partition(s) %s of topic %s had no directory in any log dir (never "
                        "created before a crash): created empty", partitions, topic)
            spec = wanted[topic]
            self._sync_dirs(self._open_new(topic, partitions, spec.config, spec.topic_id))
        if not self.clean:
            log.warning("unclean shutdown detected: logs recovered")

    def _classify(self, child: Path, wanted: dict[str, TopicLogs], gone: set[uuid.UUID],
                  found: dict[tuple[str, int], Path]) -> None:
        doomed = parse_deleted_dir(child.name)
        if doomed is not None:
            if read_topic_id(child) in gone:
                self.doomed[child] = time.monotonic() + self.delete_delay
            else:
                log.warning("leaving %s alone: not a deleted topic of this cluster", child)
            return
        parsed = parse_partition_dir(child.name)
        if parsed is None:
            return  # not named like a partition: nothing of ours
        topic, partition = parsed
        topic_id = read_topic_id(child)
        spec = wanted.get(topic)
        live = spec is not None and partition < spec.partitions
        if topic_id is not None and topic_id in gone:
            self._schedule_delete(child, topic, partition)
            return
        if not live:
            log.warning("leaving %s alone: it is not a partition of a topic of this cluster", child)
            return
        assert spec is not None
        if topic_id is None:
            if not only_own_files(child):
                log.warning("leaving %s alone: named like partition %d of topic %s but it holds "
                            "files Fjord did not write", child, partition, topic)
                return
            log.info("adopting %s (no %s yet: written by an older Fjord)", child, PARTITION_METADATA)
            write_topic_id(child, spec.topic_id)
        elif topic_id != spec.topic_id:
            log.warning("leaving %s alone: it belongs to another topic named %s (id %s)",
                        child, topic, topic_id)
            return
        if parsed in found:
            raise LogDirError(
                f"partition {topic}-{partition} is in both {found[parsed].parent} and "
                f"{child.parent}: remove the stale copy from log.dirs")
        found[parsed] = child

    def can_place(self, topic: str, partitions: Iterable[int]) -> str | None:
        """None when every partition's directory name is free in some log dir; else why not."""
        for partition in partitions:
            name = dir_name(topic, partition)
            if all((d / name).exists() for d in self.dirs):
                return (f"{name} already exists in every log dir and is not Fjord's: "
                        "move it out of the log dir or choose another topic name")
        return None

    def _place(self, topic: str, partition: int) -> Path:
        """The least loaded log dir where the partition's name is free."""
        name = dir_name(topic, partition)
        for target in sorted(self.dirs, key=lambda d: self._counts.get(d, 0)):
            if not (target / name).exists():
                return target / name
        raise OSError(f"{name} already exists in every log dir and is not this topic's: "
                      "move it away")

    def _open_new(self, topic: str, partitions: Iterable[int], config: LogConfig,
                  topic_id: uuid.UUID) -> list[Path]:
        """Create new partitions; the directories and their first files are made by a few
        threads at once (three file creations per partition are the whole cost)."""
        paths = []
        for partition in partitions:
            path = self._place(topic, partition)
            self._counts[path.parent] = self._counts.get(path.parent, 0) + 1
            paths.append((partition, path))

        def make(item: tuple[int, Path]) -> PartitionLog:
            partition, path = item
            path.mkdir(parents=True)
            write_topic_id(path, topic_id, fresh=True)
            return PartitionLog.create(path, topic, partition, config)

        created = []
        for (partition, path), plog in zip(paths, _pool().map(make, paths), strict=True):
            self.logs[(topic, partition)] = plog
            created.append(path)
        return created

    def _sync_dirs(self, partition_dirs: Iterable[Path]) -> None:
        """New partition directories become durable (their parents fsynced once). Their own
        entries (the segment file) are fsynced by the partition's first flush, when data
        durability is first claimed, rather than one directory fsync per partition here."""
        for parent in {path.parent for path in partition_dirs}:
            fsync_dir(parent)

    # --- topics -------------------------------------------------------------------------

    def create(self, topic: str, partitions: Iterable[int], config: LogConfig,
               topic_id: uuid.UUID) -> None:
        self.topic_ids[topic] = topic_id
        self._sync_dirs(self._open_new(topic, partitions, config, topic_id))

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self.logs.get((topic, partition))

    def delete(self, topic: str) -> None:
        """Kafka's way: rename each partition to `<name>.<uuid>-delete` now (so the name is
        free for a new topic), remove it after file.delete.delay.ms."""
        parents = set()
        for key in [k for k in self.logs if k[0] == topic]:
            plog = self.logs.pop(key)
            plog.detach()
            self._counts[plog.directory.parent] -= 1
            self._schedule_delete(plog.directory, *key)
            parents.add(plog.directory.parent)
        self.topic_ids.pop(topic, None)
        for parent in parents:
            fsync_dir(parent)
        self.checkpoint()

    def _schedule_delete(self, path: Path, topic: str, partition: int) -> None:
        doomed = path.with_name(deleted_name(topic, partition))
        os.rename(path, doomed)
        self.doomed[doomed] = time.monotonic() + self.delete_delay

    def delete_due(self, now: float | None = None) -> int:
        """Remove the -delete directories and `*.deleted` segment files whose delay has
        passed; returns how many."""
        now = time.monotonic() if now is None else now
        removed = 0
        for plog in list(self.logs.values()):
            if plog.doomed_files:
                removed += plog.delete_due_files(now)
        for path, due in list(self.doomed.items()):
            if due <= now:
                shutil.rmtree(path)
                del self.doomed[path]
                removed += 1
                log.info("removed %s", path)
        return removed

    def move(self, topic: str, partition: int, target: Path) -> None:
        """Move a partition's directory to another log dir (AlterReplicaLogDirs)."""
        plog = self.logs[(topic, partition)]
        if plog.directory.parent.resolve() == target.resolve():
            return
        plog.close()
        destination = target / plog.directory.name
        if destination.exists():
            raise OSError(f"{destination} already exists")
        try:
            shutil.move(str(plog.directory), str(destination))
        except OSError:
            # Whatever made it across is removed and the partition is reopened where it was.
            shutil.rmtree(destination, ignore_errors=True)
            destination = plog.directory
            raise
        finally:
            self.logs[(topic, partition)] = PartitionLog.open(
                destination, topic, partition, plog.config, True, plog.log_start_offset)
            if destination != plog.directory:
                self._counts[plog.directory.parent] -= 1
                self._counts[target] = self._counts.get(target, 0) + 1
            self.checkpoint()

    def reconfigure(self, topic: str, config: LogConfig) -> None:
        for (name, _partition), plog in self.logs.items():
            if name == topic:
                plog.config = config

    # --- checkpoints --------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Write both checkpoints of every log dir (log start and recovery point)."""
        self.checkpoint_starts()
        self.checkpoint_recovery()

    def checkpoint_starts(self) -> None:
        for directory in self.dirs:
            write_checkpoint(directory / LOG_START, [
                (t, p, plog.log_start_offset) for (t, p), plog in self.logs.items()
                if plog.directory.parent == directory and plog.log_start_offset > 0])

    def checkpoint_recovery(self) -> None:
        for directory in self.dirs:
            write_checkpoint(directory / RECOVERY_POINT, [
                (t, p, plog.recovery_point) for (t, p), plog in self.logs.items()
                if plog.directory.parent == directory])

    def close(self) -> None:
        for plog in self.logs.values():
            plog.close()
        self.checkpoint()
        for directory in self.dirs:
            (directory / CLEAN_SHUTDOWN).write_text("")
