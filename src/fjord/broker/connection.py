"""One client connection as a stream of size-prefixed frames, read with as few copies as
the kernel allows.

asyncio's StreamReader copies every byte twice (into its buffer, then out of it). Here
small frames are parsed out of one staging buffer that the socket reads into, and a large
frame (a produce request of megabytes) gets a buffer of its exact size that the kernel
fills directly (BufferedProtocol + recv_into), so the bytes are copied once on their way
to the log. Reading pauses while too many frames wait, so a fast client cannot make the
broker buffer without bound.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Iterable
from typing import cast

STAGING = 64 * 1024
PAUSE_AT, RESUME_AT = 16, 4  # queued frames
PAUSE_BYTES = 32 * 1024 * 1024  # or queued bytes, whichever comes first


class FrameTooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class FrameConnection(asyncio.BufferedProtocol):
    def __init__(self, max_frame: int, on_open: Callable[[FrameConnection], None]) -> None:
        self.max_frame = max_frame
        self._on_open = on_open
        self.transport: asyncio.Transport | None = None
        self._staging = bytearray(STAGING)
        self._staged = 0
        self._frame: bytearray | None = None
        self._filled = 0
        self._frames: collections.deque[bytes | bytearray] = collections.deque()
        self._arrivals: collections.deque[float] = collections.deque()
        self.arrived = 0.0  # when the frame next_frame returned had been read (perf_counter)
        self._queued_bytes = 0
        self._waiter: asyncio.Future[None] | None = None
        self._error: Exception | None = None
        self._closed = False
        self._paused = False
        self._writable = asyncio.Event()
        self._writable.set()

    # --- protocol callbacks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._on_open(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._frame is not None:
            return memoryview(self._frame)[self._filled :]
        return memoryview(self._staging)[self._staged :]

    def buffer_updated(self, nbytes: int) -> None:
        if self._frame is not None:
            self._filled += nbytes
            if self._filled == len(self._frame):
                frame, self._frame, self._filled = self._frame, None, 0
                self._push(frame)
            return
        self._staged += nbytes
        self._parse_staging()

    def _parse_staging(self) -> None:
        data = self._staging
        pos = 0
        while self._staged - pos >= 4:
            size = int.from_bytes(data[pos : pos + 4], "big", signed=True)
            if size < 0 or size > self.max_frame:
                self._fail(FrameTooLarge(size))
                return
            available = self._staged - pos - 4
            if available >= size:
                self._push(bytes(data[pos + 4 : pos + 4 + size]))
                pos += 4 + size
                continue
            if size + 4 > STAGING:  # too big for staging: read the rest straight into place
                frame = bytearray(size)
                frame[:available] = data[pos + 4 : self._staged]
                self._frame, self._filled = frame, available
                pos = self._staged
            break
        rest = self._staged - pos
        if rest and pos:
            data[:rest] = data[pos : self._staged]
        self._staged = rest

    def _push(self, frame: bytes | bytearray) -> None:
        self._frames.append(frame)
        self._arrivals.append(time.perf_counter())
        self._queued_bytes += len(frame)
        crowded = len(self._frames) >= PAUSE_AT or self._queued_bytes >= PAUSE_BYTES
        if crowded and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def _fail(self, error: Exception) -> None:
        self._error = error
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def eof_received(self) -> bool:
        self._closed = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._writable.set()
        self._wake()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # --- the handler's side ---------------------------------------------------------------

    async def next_frame(self) -> bytes | bytearray | None:
        """The next request frame; None when the peer has closed the connection."""
        while not self._frames:
            if self._error is not None:
                raise self._error
            if self._closed:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        frame = self._frames.popleft()
        self.arrived = self._arrivals.popleft()
        self._queued_bytes -= len(frame)
        relaxed = len(self._frames) <= RESUME_AT and self._queued_bytes < PAUSE_BYTES // 4
        if self._paused and relaxed and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return frame

    async def send(self, chunks: Iterable[bytes | bytearray | memoryview]) -> None:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionResetError("connection closed")
        self.transport.writelines(chunks)
        await self._writable.wait()

    async def linger(self, seconds: float) -> None:
        """Read and drop what the peer still sends, until it closes or `seconds` pass.

        Closing a socket with unread bytes makes the kernel send a reset, and a reset can
        discard the answer the peer has not read yet (a failed authentication's reason)."""
        try:
            async with asyncio.timeout(seconds):
                while await self.next_frame() is not None:
                    pass
        except (TimeoutError, FrameTooLarge):
            pass

    async def mute(self, seconds: float) -> None:
        """Stop reading from the peer for a while (a quota's throttle, KIP-219)."""
        if self.transport is None or self.transport.is_closing():
            return
        if not self._paused:
            self.transport.pause_reading()
        try:
            await asyncio.sleep(seconds)
        finally:
            if not self._paused and not self.transport.is_closing():
                self.transport.resume_reading()

    def peer_host(self) -> str:
        peer = self.transport.get_extra_info("peername") if self.transport else None
        return str(peer[0]) if peer else "?"

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
