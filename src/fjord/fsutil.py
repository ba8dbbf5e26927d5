"""Durable file replacement, the one way Fjord replaces a file that must survive a crash.

Why one helper: a file replaced by "write a temp file, rename it" survives a process crash
but not a power loss unless the data is fsynced before the rename and the directory after
it (the rename lives in the directory's own blocks). Several call sites doing this slightly
differently ended at three durability levels; everything that replaces a file now goes
through `atomic_write` (or `atomic_replace` for a file already written and fsynced), from
the broker's metadata to the Connect offset file and the local object store.

This module sits below every package (it imports nothing of Fjord), so storage, metadata,
coordinators, Connect, connectors and backup all import it without pulling in the broker.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

TMP_MARK = ".fjord-tmp-"


def fsync_dir(directory: Path | str) -> None:
    """Make renames, creations and removals in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write(path: Path | str, data: bytes | bytearray | memoryview | str, *,
                 sync: bool = True, mode: int = 0o644) -> None:
    """Replace `path` with `data` so a reader (or a restart) sees the old or the new content,
    never a mix: temp file beside it, fsync, rename over, fsync the directory.

    `sync=False` skips both fsyncs for files that are only derived data (a crash may then
    leave the old content, never a torn one); callers that batch many writes use it and
    call `fsync_dir` once themselves.
    """
    target = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = target.parent / f".{target.name}{TMP_MARK}{uuid.uuid4().hex[:12]}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            _write_all(fd, raw)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync:
        fsync_dir(target.parent)


def atomic_replace(source: Path | str, target: Path | str) -> None:
    """Rename an already written (and fsynced) file over `target`, durably."""
    os.replace(source, target)
    fsync_dir(Path(target).parent)


def fsync_file(path: Path | str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def is_temp(name: str) -> bool:
    """A temp file `atomic_write` left behind when the process died mid-write."""
    return TMP_MARK in name
