"""A local folder as an object store: `file:///dir/prefix/`.

Objects are files under the root; a key's `/` become directories. A put writes a hidden
temporary file beside the target, fsyncs it, renames it over the target and fsyncs the
directory, so after a crash (even SIGKILL or power loss) a name holds either the old or the
new object in full, never a torn one. Temporary files left by a crash are never listed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from fjord.fsutil import TMP_MARK, atomic_replace, atomic_write
from fjord.objectstore.store import (
    BucketNotFound,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StoreAuthError,
    StoreError,
)

_TMP_MARK = TMP_MARK


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _is_temporary(name: str) -> bool:
    return name.startswith(".") and _TMP_MARK in name


class LocalStore(ObjectStore):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.description = f"file://{self.root}/"

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise StoreError(f"invalid object key {key!r}")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        with self._writing(key):
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data)

    def put_file(self, key: str, file: BinaryIO) -> None:
        """Streamed into the temporary file in pieces, then the same fsync-rename-fsync."""
        path = self._path(key)
        with self._writing(key):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".{path.name}{_TMP_MARK}{uuid.uuid4().hex[:12]}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                try:
                    while chunk := file.read(8 << 20):
                        _write_all(fd, chunk)
                    os.fsync(fd)
                finally:
                    os.close(fd)
                atomic_replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

    @contextlib.contextmanager
    def _writing(self, key: str) -> Iterator[None]:
        """A write's OSError as the StoreError that names the problem."""
        try:
            yield
        except PermissionError as exc:
            raise StoreAuthError(f"{self.description}: cannot write {key}: {exc.strerror}") from exc
        except OSError as exc:
            raise StoreError(f"{self.description}: cannot write {key}: {exc.strerror or exc}") from exc

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"{self.description}{key}: no such object") from None
        except PermissionError as exc:
            raise StoreAuthError(f"{self.description}: cannot read {key}: {exc.strerror}") from exc
        except OSError as exc:
            raise StoreError(f"{self.description}: cannot read {key}: {exc.strerror or exc}") from exc

    def get_range(self, key: str, start: int, length: int) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as file:
                file.seek(start)
                return file.read(length)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(f"{self.description}{key}: no such object") from None
        except PermissionError as exc:
            raise StoreAuthError(f"{self.description}: cannot read {key}: {exc.strerror}") from exc
        except OSError as exc:
            raise StoreError(f"{self.description}: cannot read {key}: {exc.strerror or exc}") from exc

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        # Walk only the deepest directory the prefix names, then filter by the string prefix
        # (a prefix may end in the middle of a file name, as in S3).
        base_dir = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base_dir.split("/")) if base_dir else self.root
        if self.root.exists() and not self.root.is_dir():
            raise StoreError(f"{self.description}: {self.root} is not a folder")

        def walk_error(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError | NotADirectoryError):  # no such prefix: empty
                raise StoreError(f"{self.description}: cannot list {prefix!r}: {exc.strerror or exc}")

        found: list[ObjectInfo] = []
        for dirpath, dirnames, filenames in os.walk(start, onerror=walk_error):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, self.root)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
            for name in filenames:
                if _is_temporary(name):
                    continue
                key = rel_dir + name
                if not key.startswith(prefix) or (start_after is not None and key <= start_after):
                    continue
                try:
                    size = os.stat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    continue  # deleted while listing
                found.append(ObjectInfo(key, size))
        found.sort(key=lambda info: info.key)
        yield from found

    def head(self, key: str) -> ObjectInfo | None:
        try:
            return ObjectInfo(key, self._path(key).stat().st_size)
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def check(self, prefix: str = "") -> None:
        """The folder is created if its parent exists (as `mkdir`), and must be writable."""
        if not self.root.parent.is_dir():
            raise BucketNotFound(f"folder {self.root.parent} does not exist")
        try:
            self.root.mkdir(exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create folder {self.root}: {exc.strerror}") from exc
        if not self.root.is_dir():
            raise BucketNotFound(f"{self.root} is not a folder")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreAuthError(f"folder {self.root} is not writable")
        probe = self.root / f".probe{_TMP_MARK}{uuid.uuid4().hex}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise StoreAuthError(f"folder {self.root} is not writable: {exc.strerror}") from exc
            raise StoreError(f"folder {self.root}: {exc.strerror}") from exc
