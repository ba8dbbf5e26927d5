"""One storage interface over S3-compatible object stores and a local folder.

The backup format relies on two properties every backend must give: a `put` is atomic (a
reader sees the whole object or none of it, never a prefix) and durable once it returns, and
`list` is ordered by key. Deterministic object names plus atomic puts are what let a crashed
run simply redo its work: the retry overwrites the same names instead of adding duplicates.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlparse


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

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if there is none."""

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


@dataclass(frozen=True)
class Location:
    """Where a backup lives: `url` as the user wrote it, split into a store and a key prefix."""

    url: str
    scheme: str  # "s3" or "file"
    bucket: str  # the bucket, or the local root directory
    prefix: str  # "" (bucket root) or ending with "/"

    @property
    def display(self) -> str:
        return self.url


def parse_location(url: str) -> Location:
    """Split `s3://bucket/prefix/` or `file:///dir/prefix/`.

    The prefix rule is CKafka's: empty means the bucket root, otherwise it must end with `/`
    so that a prefix can never glue itself onto the object names that follow it. For a local
    folder the whole path is the root directory, so it must end with `/` too (or be `/`).
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("s3", "s3a"):
        bucket = parsed.netloc
        if not bucket:
            raise InvalidLocation(f"{url}: no bucket name (expected s3://bucket/prefix/)")
        prefix = unquote(parsed.path).lstrip("/")
        if prefix and not prefix.endswith("/"):
            raise InvalidLocation(f"prefix {prefix!r} must end with '/' (or be empty for the bucket root)")
        if "//" in prefix:
            raise InvalidLocation(f"prefix {prefix!r} has an empty path segment")
        return Location(url, "s3", bucket, prefix)
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidLocation(f"{url}: a file URL has no host (expected file:///dir/prefix/)")
        path = unquote(parsed.path)
        if not path.startswith("/"):
            raise InvalidLocation(f"{url}: the folder must be an absolute path (file:///dir/prefix/)")
        if not path.endswith("/"):
            raise InvalidLocation(f"folder {path!r} must end with '/'")
        root = path.rstrip("/") or "/"
        return Location(url, "file", root, "")
    raise InvalidLocation(f"{url}: unsupported location (use s3://bucket/prefix/ or file:///dir/prefix/)")


def open_store(location: Location, options: Mapping[str, Any] | None = None) -> ObjectStore:
    """A store for the location; `options` carries the S3 settings (see S3Options)."""
    if location.scheme == "file":
        from fjord.connectors.objectstore.local import LocalStore

        return LocalStore(location.bucket)
    from fjord.connectors.objectstore.s3 import S3Options, S3Store

    return S3Store(location.bucket, S3Options.from_mapping(options or {}))
