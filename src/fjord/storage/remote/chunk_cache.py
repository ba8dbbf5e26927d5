"""A bounded local-disk cache of recently read chunks of remote segments.

Consumers catching up read a remote segment front to back in fetches of a few hundred KB;
fetching it from the store in chunks of `rsm.config.chunk.size` and keeping the chunks on
local disk turns many small ranged GETs into few large ones, and lets several consumers of
the same history share them. Memory stays flat: chunks live in files (the page cache does
the rest), the in-memory part is only their names and sizes. Chunks left from an earlier run
are deleted at start-up (they are never the only copy of anything); any other file in the
directory is left alone.

Entries are not trusted: the reader checks every batch's CRC, and drops a chunk that fails.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict
from pathlib import Path

from fjord.fsutil import TMP_MARK, atomic_write

# A chunk (`<segment id>.<chunk number>`) or the temporary file atomic_write left of one.
_OURS = re.compile(r"^\.?[0-9a-f]{32}\.\d+(" + re.escape(TMP_MARK) + r"[0-9a-f]+)?$")


class ChunkCache:
    def __init__(self, directory: Path, capacity: int) -> None:
        self.directory = directory
        self.capacity = capacity
        self._entries: OrderedDict[str, int] = OrderedDict()  # name -> size, oldest first
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        directory.mkdir(parents=True, exist_ok=True)
        for child in directory.iterdir():  # our chunks from before; nothing else is touched
            if child.is_file() and _OURS.match(child.name):
                with contextlib.suppress(OSError):
                    child.unlink()

    @staticmethod
    def name(segment_id: str, chunk: int) -> str:
        return f"{segment_id}.{chunk}"

    def get(self, segment_id: str, chunk: int) -> bytes | None:
        name = self.name(segment_id, chunk)
        with self._lock:
            if name not in self._entries:
                self.misses += 1
                return None
            self._entries.move_to_end(name)
            self.hits += 1
        try:
            return (self.directory / name).read_bytes()
        except OSError:
            self.drop(segment_id, chunk)
            return None

    def put(self, segment_id: str, chunk: int, data: bytes) -> None:
        if self.capacity <= 0 or len(data) > self.capacity:
            return
        name = self.name(segment_id, chunk)
        try:
            atomic_write(self.directory / name, data, sync=False)  # a cache: no fsync
        except OSError:
            return  # a full disk only costs cache hits
        evicted: list[str] = []
        with self._lock:
            self._size -= self._entries.pop(name, 0)
            self._entries[name] = len(data)
            self._size += len(data)
            while self._size > self.capacity and self._entries:
                old, size = self._entries.popitem(last=False)
                self._size -= size
                evicted.append(old)
        for old in evicted:
            with contextlib.suppress(OSError):
                (self.directory / old).unlink()

    def drop(self, segment_id: str, chunk: int | None = None) -> None:
        """Forget one chunk, or (chunk None) every chunk of a segment."""
        prefix = f"{segment_id}."
        with self._lock:
            names = [n for n in self._entries
                     if (n == self.name(segment_id, chunk) if chunk is not None else n.startswith(prefix))]
            for name in names:
                self._size -= self._entries.pop(name)
        for name in names:
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()

    @property
    def size(self) -> int:
        return self._size
