"""One storage interface over S3-compatible object stores and a local folder.

Shared by backup (the object-storage connectors) and the broker's remote log tier, which is
why it lives outside Connect: the broker must not import the Connect runtime to reach it.

The backup format and the remote log tier rely on two properties every backend must give: a `put` is atomic (a
reader sees the whole object or none of it, never a prefix) and durable once it returns, and
`list` is ordered by key. Deterministic object names plus atomic puts are what let a crashed
run simply redo its work: the retry overwrites the same names instead of adding duplicates.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


class StoreError(Exception):
    """Anything that kept a store operation from completing; the message names the problem."""


class StoreUnreachable(StoreError):
    """The endpoint did not answer (DNS, refused connection, timeout)."""


class StoreAuthError(StoreError):
    """The store answered but refused the credentials or the permission."""


class BucketNotFound(StoreError):
    """The bucket (or, for a local folder, the parent directory) does not exist."""


class ObjectNotFound(StoreError):
    """No object under that key."""


class InvalidLocation(StoreError):
    """A location URL that cannot be used, e.g. a prefix that does not end with `/`."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int


class ObjectStore(abc.ABC):
    """Keys are relative to the store's root (the bucket, or the local folder)."""

    description: str = ""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write the whole object atomically and durably, replacing any object of that key."""

    def put_file(self, key: str, file: BinaryIO) -> None:
        """put() from an open file, read to its end; the backends stream it, so an object as
        large as a log segment (a gigabyte by default) never has to fit in memory."""
        self.put(key, file.read())

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""

    def get_range(self, key: str, start: int, length: int) -> bytes:
        """`length` bytes from `start` (fewer at the end of the object); ObjectNotFound if none.

        Tiered storage reads a few hundred kilobytes out of a segment of many megabytes; the
        backends override this with a ranged read so that is all that crosses the wire.
        """
        return self.get(key)[start:start + length]

    @abc.abstractmethod
    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        """Objects whose key starts with `prefix`, in ascending key order."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error (as in S3)."""

    @abc.abstractmethod
    def check(self, prefix: str = "") -> None:
        """Prove the store is reachable, the credentials work and the bucket exists.

        Raises the StoreError subclass that names the problem, so `fjord backup create` can
        refuse a rule with one precise line instead of failing at its first run.
        """

    def head(self, key: str) -> ObjectInfo | None:
        for info in self.list(key):
            if info.key == key:
                return info
            break
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release connections."""
