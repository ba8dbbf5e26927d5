"""All partition logs of a broker across its log.dirs, plus the per-directory files Kafka
keeps beside them: a clean-shutdown marker and the log-start-offset checkpoint.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path

from fjord.fsutil import atomic_write
from fjord.storage.log import LogConfig, PartitionLog, dir_name, parse_dir_name

log = logging.getLogger("fjord.storage")

CLEAN_SHUTDOWN = ".kafka_cleanshutdown"
START_CHECKPOINT = "log-start-offset-checkpoint"


class LogManager:
    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs
        self.logs: dict[tuple[str, int], PartitionLog] = {}
        self.clean = True
        for directory in dirs:
            directory.mkdir(parents=True, exist_ok=True)
            marker = directory / CLEAN_SHUTDOWN
            if marker.exists():
                marker.unlink()
            elif any(child.is_dir() for child in directory.iterdir()):
                self.clean = False
        self._starts = self._read_start_checkpoints()

    # --- loading ------------------------------------------------------------------------

    def load(self, wanted: dict[str, tuple[int, LogConfig]]) -> None:
        """Open the logs of known topics; directories of unknown ones are removed."""
        found: dict[tuple[str, int], Path] = {}
        for directory in self.dirs:
            for child in directory.iterdir():
                if not child.is_dir():
                    continue
                parsed = parse_dir_name(child.name)
                if child.name.endswith("-delete") or parsed is None:
                    if child.name.endswith("-delete"):
                        shutil.rmtree(child, ignore_errors=True)
                    continue
                topic, partition = parsed
                if topic not in wanted or partition >= wanted[topic][0]:
                    log.warning("removing %s: its topic is not in the metadata", child)
                    shutil.rmtree(child, ignore_errors=True)
                    continue
                found[parsed] = child
        for topic, (partitions, config) in wanted.items():
            for partition in range(partitions):
                key = (topic, partition)
                path = found.get(key) or self._place(topic, partition)
                self.logs[key] = PartitionLog.open(
                    path, topic, partition, config, self.clean, self._starts.get(key, 0)
                )
        if not self.clean:
            log.warning("unclean shutdown detected: logs recovered")

    def _place(self, topic: str, partition: int) -> Path:
        counts = {d: 0 for d in self.dirs}
        for plog in self.logs.values():
            parent = plog.directory.parent
            if parent in counts:
                counts[parent] += 1
        target = min(self.dirs, key=lambda d: counts[d])
        return target / dir_name(topic, partition)

    # --- topics -------------------------------------------------------------------------

    def create(self, topic: str, partitions: Iterable[int], config: LogConfig) -> None:
        for partition in partitions:
            path = self._place(topic, partition)
            self.logs[(topic, partition)] = PartitionLog.open(path, topic, partition, config, True)

    def get(self, topic: str, partition: int) -> PartitionLog | None:
        return self.logs.get((topic, partition))

    def delete(self, topic: str) -> None:
        for key in [k for k in self.logs if k[0] == topic]:
            plog = self.logs.pop(key)
            plog.detach()
            doomed = plog.directory.with_name(f"{plog.directory.name}.{uuid.uuid4().hex}-delete")
            try:
                os.rename(plog.directory, doomed)
            except OSError:
                doomed = plog.directory
            shutil.rmtree(doomed, ignore_errors=True)
        self.checkpoint_starts()

    def move(self, topic: str, partition: int, target: Path) -> None:
        """Move a partition's directory to another log dir (AlterReplicaLogDirs)."""
        plog = self.logs[(topic, partition)]
        if plog.directory.parent.resolve() == target.resolve():
            return
        plog.close()
        destination = target / plog.directory.name
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
            self.checkpoint_starts()

    def reconfigure(self, topic: str, config: LogConfig) -> None:
        for (name, _partition), plog in self.logs.items():
            if name == topic:
                plog.config = config

    # --- checkpoints --------------------------------------------------------------------

    def _read_start_checkpoints(self) -> dict[tuple[str, int], int]:
        starts: dict[tuple[str, int], int] = {}
        for directory in self.dirs:
            path = directory / START_CHECKPOINT
            try:
                lines = path.read_text().splitlines()
            except FileNotFoundError:
                continue
            for line in lines[2:]:
                parts = line.split()
                if len(parts) == 3 and parts[1].isdigit():
                    starts[(parts[0], int(parts[1]))] = int(parts[2])
        return starts

    def checkpoint_starts(self) -> None:
        """Kafka's checkpoint format: version, count, then `topic partition offset` lines."""
        for directory in self.dirs:
            entries = [
                f"{t} {p} {plog.log_start_offset}"
                for (t, p), plog in self.logs.items()
                if plog.directory.parent == directory and plog.log_start_offset > 0
            ]
            atomic_write(directory / START_CHECKPOINT,
                         "\n".join(["0", str(len(entries)), *entries]) + "\n")

    def close(self) -> None:
        self.checkpoint_starts()
        for plog in self.logs.values():
            plog.close()
        for directory in self.dirs:
            (directory / CLEAN_SHUTDOWN).write_text("")
