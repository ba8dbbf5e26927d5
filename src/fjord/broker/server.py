"""The asyncio network layer: frames in, handler, frames out.

Requests on one connection are handled one at a time and answered in order, as Kafka
does; clients pipeline and the kernel buffers. A frame that cannot be parsed, an unknown
API key or an unsupported version closes that connection only (Kafka's behaviour), with a
log line naming the peer and the problem; everybody else keeps being served.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from typing import Any

from kio.schema.errors import ErrorCode

import fjord.broker.apis  # noqa: F401  (registers every API)
from fjord.broker.apis.api_versions import supported_apis
from fjord.broker.connection import FrameConnection, FrameTooLarge
from fjord.broker.context import RequestContext
from fjord.broker.registry import APIS
from fjord.broker.state import BrokerState
from fjord.config.broker import BrokerConfig
from fjord.observability.broker_admin import BrokerAdmin
from fjord.protocol.codec import (
    FrameError,
    build,
    decode_request,
    encode_response_chunks,
    parse_header,
    peek_header,
    request_class,
    response_class,
)
from fjord.storage import cleaner

log = logging.getLogger("fjord.broker")
request_log = logging.getLogger("kafka.request.logger")  # Kafka's; WARN (off) by default

Chunks = list[bytes | bytearray | memoryview]
API_VERSIONS = 18


class BrokerServer:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.state = BrokerState(config)
        self.max_request = int(config.get("socket.request.max.bytes"))
        self.idle_seconds = int(config.get("connections.max.idle.ms")) / 1000
        self._servers: list[asyncio.Server] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: set[FrameConnection] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self.admin = BrokerAdmin(self.state, lambda: len(self._connections),
                                 config.listeners[0].name)

    async def start(self) -> None:
        for index, listener in enumerate(self.config.listeners):
            server = await asyncio.get_running_loop().create_server(
                lambda: FrameConnection(self.max_request, self._opened),
                listener.host or None, listener.port, reuse_address=True,
            )
            self._servers.append(server)
            if index == 0:
                bound_port = server.sockets[0].getsockname()[1]
                if listener.port == 0:
                    listener = type(listener)(listener.name, listener.host, bound_port)
                self.state.host, self.state.port = self.config.advertised_for(listener)
            log.info("listening on %s://%s:%d", listener.name, listener.host,
                     server.sockets[0].getsockname()[1])
        self._tasks.append(asyncio.create_task(self._retention_loop()))
        self._tasks.append(asyncio.create_task(self._flush_loop()))
        if self.config.get("log.cleaner.enable"):
            self._tasks.append(asyncio.create_task(self._cleaner_loop()))
        for service in self.state.services:  # the coordinators' timers
            self._tasks.append(asyncio.create_task(service.run()))
        await self.admin.start()
        self._tasks.append(asyncio.create_task(self.admin.run()))
        self.admin.ready = True

    async def close(self) -> None:
        self.admin.ready = False
        await self.admin.close()
        for server in self._servers:
            server.close()
        for connection in list(self._connections):
            connection.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self.state.close()
        log.info("broker stopped cleanly")

    # --- background work ----------------------------------------------------------------

    async def _retention_loop(self) -> None:
        """Retention, and expiry of idle producers' state (producer.id.expiration.ms)."""
        interval = int(self.config.get("log.retention.check.interval.ms")) / 1000
        producer_expiry = int(self.config.get("producer.id.expiration.ms"))
        while True:
            await asyncio.sleep(interval)
            now = int(time.time() * 1000)
            deleted = 0
            for plog in list(self.state.logs.logs.values()):
                try:
                    deleted += plog.apply_retention(now)
                    plog.producers.expire(now - producer_expiry)
                except Exception:
                    log.exception("retention failed for %s-%d", plog.topic, plog.partition)
            if deleted:
                self.state.logs.checkpoint_starts()

    async def _cleaner_loop(self) -> None:
        """Compact partitions of cleanup.policy=compact topics whose dirty ratio is due."""
        backoff = int(self.config.get("log.cleaner.backoff.ms")) / 1000
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(backoff)
            for plog in list(self.state.logs.logs.values()):
                config = plog.config
                now = int(time.time() * 1000)
                if not cleaner.due(plog, plog.cleaned_upto, now):
                    continue
                try:
                    planned = await loop.run_in_executor(
                        None, cleaner.plan, cleaner.snapshot(plog), now,
                        config.delete_retention_ms, config.min_compaction_lag_ms)
                    if planned is not None and cleaner.swap(planned):
                        plog.cleaned_upto = planned.segments[-1].next_offset
                except Exception:
                    log.exception("compaction of %s-%d failed", plog.topic, plog.partition)

    async def _flush_loop(self) -> None:
        """flush.ms: fsync partitions whose oldest unflushed write is older than that."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(0.2)
            for plog in list(self.state.logs.logs.values()):
                if plog.needs_flush():
                    try:
                        await loop.run_in_executor(None, plog.flush_handle())
                    except Exception:
                        log.exception("flush failed for %s-%d", plog.topic, plog.partition)

    # --- connections --------------------------------------------------------------------

    def _opened(self, connection: FrameConnection) -> None:
        self._connections.add(connection)
        task = asyncio.get_running_loop().create_task(self._serve(connection))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _serve(self, connection: FrameConnection) -> None:
        host = connection.peer_host()
        connection_id = next(self._ids)
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_seconds):
                        frame = await connection.next_frame()
                except TimeoutError:
                    log.debug("closing idle connection from %s", host)
                    return
                if frame is None:
                    return
                started = time.perf_counter()
                response = await self._dispatch(frame, host, connection_id)
                handled = time.perf_counter()
                if response is not None:
                    await connection.send(response)
                self._measure(frame, connection.arrived, started, handled, host)
        except FrameTooLarge as exc:
            log.warning("closing connection from %s: request of %d bytes exceeds "
                        "socket.request.max.bytes=%d", host, exc.size, self.max_request)
        except ConnectionError:
            pass
        except FrameError as exc:
            log.warning("closing connection from %s: %s", host, exc)
        except Exception:
            log.exception("closing connection from %s after an internal error", host)
        finally:
            self._connections.discard(connection)
            connection.close()

    async def _dispatch(self, frame: bytes | bytearray, host: str, connection_id: int) -> Chunks | None:
        api_key, version, correlation_id = peek_header(frame)
        entry = APIS.get(api_key)
        if entry is None:
            raise FrameError(f"unknown API key {api_key}")
        if not entry.min_version <= version <= entry.max_version:
            if api_key == API_VERSIONS:
                return self._unsupported_api_versions(correlation_id)
            raise FrameError(
                f"{entry.name} v{version} is not supported "
                f"(this broker serves v{entry.min_version}-v{entry.max_version})")
        request_cls = request_class(api_key, version)
        header = parse_header(frame, request_cls.__flexible__)
        request = decode_request(request_cls, frame, header.size)
        ctx = RequestContext(self.state, version, correlation_id, header.client_id, host,
                             connection_id)
        result = await entry.handler(ctx, request)
        if result is None:
            return None
        response_cls = response_class(api_key, version)
        return encode_response_chunks(response_cls, correlation_id, build(response_cls, result),
                                      header_v0=api_key == API_VERSIONS)

    def _measure(self, frame: bytes | bytearray, arrived: float, started: float, handled: float,
                  host: str) -> None:
        """Kafka's RequestMetrics (queue, local, send time) and its request log."""
        api_key, version, correlation_id = peek_header(frame)
        entry = APIS.get(api_key)
        if entry is None:
            return
        done = time.perf_counter()
        queue_ms = max(0.0, started - arrived) * 1000
        local_ms = (handled - started) * 1000
        send_ms = (done - handled) * 1000
        metrics = self.state.metrics
        metrics.request_done(entry.name, version, queue_ms, local_ms, send_ms)
        if api_key == 1:  # Kafka times consumer fetches under FetchConsumer as well
            metrics.request_done("FetchConsumer", version, queue_ms, local_ms, send_ms)
        if request_log.isEnabledFor(logging.DEBUG):
            request_log.debug(
                "Completed request: api=%s version=%d correlationId=%d from=%s totalTimeMs=%.3f "
                "requestQueueTimeMs=%.3f localTimeMs=%.3f responseSendTimeMs=%.3f", entry.name,
                version, correlation_id, host, queue_ms + local_ms + send_ms, queue_ms, local_ms,
                send_ms)

    def _unsupported_api_versions(self, correlation_id: int) -> Chunks:
        cls = response_class(API_VERSIONS, 0)
        body: dict[str, Any] = {"error_code": ErrorCode.unsupported_version,
                                "api_keys": supported_apis()}
        return encode_response_chunks(cls, correlation_id, build(cls, body), header_v0=True)
