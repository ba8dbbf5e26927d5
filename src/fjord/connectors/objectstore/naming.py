"""Object names: `<prefix><topic>/partition=<p>/<topic>+<p>+<first offset, 20 digits>.<ext>`.

A name is a pure function of where its first record sits in Kafka, so a run that is redone
after a crash writes the very same names (overwriting, never duplicating), and keys sort in
offset order within a partition, which is the order a restore must replay them. Twenty
digits, like Kafka's segment files, hold any 63-bit offset. The layout follows Confluent's S3
sink (`topic/partition=N/topic+N+offset.ext`) so tools that read those buckets read ours.

Run history lives beside the data under `<prefix>_fjord/`, a name no topic can collide with
because the data paths always contain `/partition=`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OFFSET_DIGITS = 20
META_DIR = "_fjord/"

_NAME = re.compile(r"^(?P<topic>.+)\+(?P<partition>\d+)\+(?P<offset>\d{20})\.(?P<ext>[a-z0-9.]+)$")


@dataclass(frozen=True, order=True)
class ObjectName:
    topic: str
    partition: int
    first_offset: int
    extension: str


def partition_prefix(prefix: str, topic: str, partition: int) -> str:
    return f"{prefix}{topic}/partition={partition}/"


def topic_prefix(prefix: str, topic: str) -> str:
    return f"{prefix}{topic}/"


def object_key(prefix: str, topic: str, partition: int, first_offset: int, extension: str) -> str:
    return (f"{partition_prefix(prefix, topic, partition)}"
            f"{topic}+{partition}+{first_offset:0{OFFSET_DIGITS}d}.{extension}")


def parse_object_key(prefix: str, key: str) -> ObjectName | None:
    """The coordinates a data object's key encodes; None for anything else under the prefix."""
    if not key.startswith(prefix):
        return None
    rest = key[len(prefix):]
    parts = rest.split("/")
    if len(parts) != 3 or not parts[1].startswith("partition="):
        return None
    match = _NAME.match(parts[2])
    if match is None or match["topic"] != parts[0] or parts[1] != f"partition={match['partition']}":
        return None
    return ObjectName(match["topic"], int(match["partition"]), int(match["offset"]), match["ext"])


def run_log_prefix(prefix: str, connector: str) -> str:
    return f"{prefix}{META_DIR}runs/{connector}/"


def restore_progress_prefix(prefix: str, connector: str) -> str:
    return f"{prefix}{META_DIR}restores/{connector}/"
