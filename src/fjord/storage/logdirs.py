"""Who a log directory belongs to, and which partition directories are Fjord's.

Kafka's files, so an operator recognises them:

- `meta.properties` in every log dir (`version`, `cluster.id`, `node.id`, `directory.id`):
  a broker refuses a directory of another cluster or node instead of adopting (or
  deleting) its data. The order of `log.dirs` does not matter: each dir says what it is.
- `partition.metadata` in every partition directory (`version: 0`, `topic_id: <base64>`):
  the proof that `orders-3/` is partition 3 of *this* cluster's topic `orders`, and not of
  a deleted topic of the same name or somebody else's directory that happens to be named
  like a partition.

Start-up problems are `LogDirError`s: one line naming the directory and the fix; the CLI
prints it and exits 2, as it does for a configuration mistake.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from fjord.fsutil import atomic_write, is_temp

log = logging.getLogger("fjord.storage")

META_PROPERTIES = "meta.properties"
PARTITION_METADATA = "partition.metadata"
META_VERSION = 1
DELETE_SUFFIX = "-delete"

# What Fjord itself writes into a partition directory: a directory holding only these is
# Fjord's (or Kafka's) even before it had a partition.metadata (an older Fjord's data).
_OWN_FILE = re.compile(
    r"^(\d{20}\.(log|index|timeindex|snapshot|txnindex)(\.(cleaned|deleted|swap))?"
    r"|producer-state\.json"
    r"|producer-state\.tmp|leader-epoch-checkpoint|partition\.metadata)$")


class LogDirError(Exception):
    """A log directory this broker must not use as it stands; the message is one line."""


def encode_uuid(value: uuid.UUID) -> str:
    """Kafka's Uuid.toString: base64url of the 16 bytes, no padding."""
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def decode_uuid(text: str) -> uuid.UUID:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return uuid.UUID(bytes=raw)


def new_directory_id() -> str:
    return encode_uuid(uuid.uuid4())


# --- meta.properties ------------------------------------------------------------------


@dataclass(frozen=True)
class MetaProperties:
    cluster_id: str
    node_id: int
    directory_id: str
    version: int = META_VERSION


def read_meta(directory: Path) -> MetaProperties | None:
    path = directory / META_PROPERTIES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LogDirError(f"{path} cannot be read ({exc}): fix or remove the file") from None
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    try:
        return MetaProperties(values["cluster.id"], int(values["node.id"]),
                              values.get("directory.id") or new_directory_id(),
                              int(values.get("version", META_VERSION)))
    except (KeyError, ValueError):
        raise LogDirError(
            f"{path} lacks cluster.id or node.id: restore it, or move it away if {directory} "
            "holds no data") from None


def write_meta(directory: Path, meta: MetaProperties) -> None:
    stamp = time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime())
    atomic_write(directory / META_PROPERTIES,
                 f"#\n#{stamp}\ncluster.id={meta.cluster_id}\ndirectory.id={meta.directory_id}\n"
                 f"node.id={meta.node_id}\nversion={meta.version}\n")


def check_identity(dirs: list[Path], wanted_cluster: str | None, node_id: int
                   ) -> tuple[str | None, dict[Path, MetaProperties]]:
    """Read every dir's meta.properties; refuse dirs of another cluster or node.

    Returns the cluster id they agree on (None when no dir has one yet) and what was read.
    """
    seen: dict[Path, Path] = {}
    for directory in dirs:
        real = directory.resolve()
        if real in seen:
            raise LogDirError(f"log.dirs lists {directory} twice (as {seen[real]} too): "
                              "list each directory once")
        seen[real] = directory
    metas: dict[Path, MetaProperties] = {}
    for directory in dirs:
        meta = read_meta(directory)
        if meta is not None:
            metas[directory] = meta
    cluster = wanted_cluster
    first: Path | None = None
    for directory, meta in metas.items():
        if cluster is not None and meta.cluster_id != cluster:
            if first is None:
                raise LogDirError(
                    f"log dir {directory} belongs to cluster {meta.cluster_id}, not cluster.id="
                    f"{cluster}: remove it from log.dirs or set cluster.id={meta.cluster_id}")
            raise LogDirError(
                f"log dir {directory} belongs to cluster {meta.cluster_id} but {first} to "
                f"{cluster}: remove the other cluster's directory from log.dirs")
        cluster, first = meta.cluster_id, first or directory
        if meta.node_id != node_id:
            raise LogDirError(
                f"log dir {directory} belongs to node {meta.node_id}, and this broker is "
                f"node.id={node_id}: set node.id={meta.node_id} or use another directory")
    ids: dict[str, Path] = {}
    for directory, meta in metas.items():
        if meta.directory_id in ids:
            raise LogDirError(
                f"log dirs {ids[meta.directory_id]} and {directory} have the same directory.id "
                f"{meta.directory_id} (a copied directory?): keep one of them in log.dirs")
        ids[meta.directory_id] = directory
    return cluster, metas


# --- partition.metadata ---------------------------------------------------------------


def read_topic_id(partition_dir: Path) -> uuid.UUID | None:
    """The topic id a partition directory says it belongs to; None if it says nothing."""
    try:
        text = (partition_dir / PARTITION_METADATA).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "topic_id":
            try:
                return decode_uuid(value.strip())
            except ValueError:
                return None
    return None


def write_topic_id(partition_dir: Path, topic_id: uuid.UUID, fresh: bool = False) -> None:
    """Not fsynced on its own: a lost or torn file leaves a directory holding only Fjord's
    files, which the next start adopts and rewrites from the topic metadata. In a `fresh`
    (just created, empty) directory the file is written in place, without a rename."""
    text = f"version: 0\ntopic_id: {encode_uuid(topic_id)}\n"
    if fresh:
        fd = os.open(partition_dir / PARTITION_METADATA, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
    else:
        atomic_write(partition_dir / PARTITION_METADATA, text, sync=False)


def holds_partitions(dirs: list[Path]) -> bool:
    """Whether any log dir has a directory that says it is a Fjord partition."""
    return any((child / PARTITION_METADATA).exists()
               for directory in dirs if directory.is_dir()
               for child in directory.iterdir() if child.is_dir())


def only_own_files(partition_dir: Path) -> bool:
    """True when everything in the directory is a file Fjord writes into a partition."""
    try:
        return all(child.is_file() and (_OWN_FILE.match(child.name) or is_temp(child.name))
                   for child in partition_dir.iterdir())
    except OSError:
        return False


def parse_partition_dir(name: str) -> tuple[str, int] | None:
    topic, _, part = name.rpartition("-")
    if not topic or not part.isdigit() or part != str(int(part)):
        return None
    return topic, int(part)


def parse_deleted_dir(name: str) -> tuple[str, int] | None:
    """`<topic>-<partition>.<uuid hex>-delete`, Kafka's name for a deleted partition."""
    if not name.endswith(DELETE_SUFFIX):
        return None
    stem, dot, marker = name[: -len(DELETE_SUFFIX)].rpartition(".")
    if not dot or not re.fullmatch(r"[0-9a-f]{32}", marker):
        return None
    return parse_partition_dir(stem)


def deleted_name(topic: str, partition: int) -> str:
    return f"{topic}-{partition}.{uuid.uuid4().hex}{DELETE_SUFFIX}"
