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
from fjord.broker import error_versions
from fjord.broker.apis.api_versions import supported_apis
from fjord.broker.connection import FrameConnection, FrameTooLarge
from fjord.broker.context import RequestContext
from fjord.broker.registry import APIS
from fjord.broker.state import BrokerState
from fjord.config.broker import BrokerConfig, Listener
from fjord.observability.broker_admin import BrokerAdmin
from fjord.observability.log_shipping import LogShipper, start_log_shipping
from fjord.observability.loops import LoopRegistry
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
from fjord.security.sasl import AuthenticationFailed
from fjord.security.session import ConnectionRefused, ListenerSecurity, Session, listener_security
from fjord.storage import cleaner

log = logging.getLogger("fjord.broker")
request_log = logging.getLogger("kafka.request.logger")  # Kafka's; WARN (off) by default

Chunks = list[bytes | bytearray | memoryview]
API_VERSIONS = 18
FLUSH_CHECK_INTERVAL = 0.2  # how often flush.ms is checked
STOP_GRACE = 5.0  # how long requests in flight may take to finish once shutdown began


class BrokerServer:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.state = BrokerState(config)
        self.max_request = int(config.get("socket.request.max.bytes"))
        self.idle_seconds = int(config.get("connections.max.idle.ms")) / 1000
        self._servers: list[asyncio.Server] = []
        self._connections: set[FrameConnection] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._busy: set[asyncio.Task[None]] = set()  # handlers in the middle of a request
        self._ids = itertools.count(1)
        self._bound: list[tuple[Listener, ListenerSecurity]] = []
        self._shipper: LogShipper | None = None
        self.loops = LoopRegistry.from_environment()
        self.state.loops = self.loops  # health() for whoever reports on the broker
        self.admin = BrokerAdmin(self.state, lambda: len(self._connections),
                                 config.listeners[0].name)

    async def start(self) -> None:
        lookup = self.state.security.scram.get
        # Every listener's TLS and SASL setup is checked before any port opens.
        prepared = [(listener, listener_security(
            self.config, listener, self.config.advertised_for(listener),
            lambda user, mechanism: lookup((user, mechanism))))
            for listener in self.config.listeners]
        for index, (listener, security) in enumerate(prepared):
            server = await asyncio.get_running_loop().create_server(
                lambda security=security: FrameConnection(  # type: ignore[misc]
                    self.max_request, lambda conn: self._opened(conn, security)),
                listener.host or None, listener.port, reuse_address=True,
                ssl=security.ssl_context,
            )
            self._servers.append(server)
            bound_port = server.sockets[0].getsockname()[1]
            if listener.port == 0:
                listener = type(listener)(listener.name, listener.host, bound_port, listener.protocol)
                security.advertised = self.config.advertised_for(listener)
            if index == 0:
                self.state.host, self.state.port = security.advertised
            log.info("listening on %s://%s:%d (%s)", listener.name, listener.host, bound_port,
                     listener.protocol)
            self._bound.append((listener, security))
        self.state.on_reconfigure = self._reconfigured  # after a dynamic config change
        loops, logs = self.loops, self.state.logs
        self._retention = loops.start(
            "retention", self._retention_tick,
            int(self.config.get("log.retention.check.interval.ms")) / 1000)
        self._flush = loops.start("flush", self._flush_tick, FLUSH_CHECK_INTERVAL)
        if self.config.get("log.cleaner.enable"):
            self._cleaner = loops.start("cleaner", self._cleaner_tick,
                                        int(self.config.get("log.cleaner.backoff.ms")) / 1000)
        loops.start("recovery-checkpoint", logs.checkpoint,
                    int(self.config.get("log.flush.offset.checkpoint.interval.ms")) / 1000)
        loops.start("delete-dirs", logs.delete_due, min(logs.delete_delay, 1.0) or 0.05)
        for coordinator in (self.state.groups, self.state.transactions):
            for name, interval, tick in coordinator.background():
                loops.start(name, tick, interval)
        if self.state.remote is not None:  # tiered storage
            for name, interval, tick in self.state.remote.background():
                loops.start(name, tick, interval)
        await self.admin.start()
        self._shipper = start_log_shipping(self.config, self.state.metadata.cluster_id,
                                           self.state.node_id)
        if self._shipper is not None:
            loops.start("log-shipping", self._shipper.tick,
                        int(self.config.get("log.shipping.interval.ms")) / 1000)
        loops.start("storage-alerts", self.admin.check_storage,
                    int(self.config.get("storage.alert.check.interval.ms")) / 1000)
        loops.check_faults()
        self.admin.ready = True

    async def close(self) -> None:
        """Stop accepting, end the requests in flight (long-polls are woken and answered),
        stop the background loops, then close the logs: nothing touches a closed log, and
        "stopped cleanly" is the last line."""
        self.admin.ready = False
        for server in self._servers:
            server.close()
        self.state.begin_stop()
        self.state.groups.stop()
        for task in list(self._handlers - self._busy):
            task.cancel()  # idle connections: nothing to answer
        busy = list(self._busy)
        if busy:
            _done, late = await asyncio.wait(busy, timeout=STOP_GRACE)
            for task in late:
                log.warning("cancelling a request still running %.0f s after shutdown began",
                            STOP_GRACE)
                task.cancel()
        for connection in list(self._connections):
            connection.close()
        if self._handlers:
            await asyncio.gather(*self._handlers, return_exceptions=True)
        await self.admin.close()
        await self.loops.close()
        pending = [f for plog in self.state.logs.logs.values() for f in plog.pending_syncs]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)  # failures logged by the log
        for server in self._servers:
            await server.wait_closed()
        self.state.close()
        log.info("broker stopped cleanly")
        if self._shipper is not None:  # last: it ships every line up to this one
            await asyncio.get_running_loop().run_in_executor(None, self._shipper.stop)

    def _reconfigured(self) -> None:
        """Dynamic configs changed: re-advertise the listeners, re-time the loops."""
        for index, (listener, security) in enumerate(self._bound):
            security.advertised = self.config.advertised_for(listener)
            if index == 0:
                self.state.host, self.state.port = security.advertised
        for name, key in (("cleaner", "log.cleaner.backoff.ms"),
                          ("storage-alerts", "storage.alert.check.interval.ms")):
            loop = self.loops.loops.get(name)
            if loop is not None:
                loop.interval = int(self.config.get(key)) / 1000

    # --- background work ----------------------------------------------------------------

    def _retention_tick(self) -> None:
        """Retention, and expiry of idle producers' state (producer.id.expiration.ms)."""
        producer_expiry = int(self.config.get("producer.id.expiration.ms"))
        now = int(time.time() * 1000)
        deleted = 0
        for plog in list(self.state.logs.logs.values()):
            with self._retention.guard(f"retention of {plog.topic}-{plog.partition}"):
                deleted += plog.apply_retention(now)
                plog.producers.expire(now - producer_expiry)
        if deleted:
            self.state.logs.checkpoint_starts()

    async def _cleaner_tick(self) -> None:
        """Compact partitions of cleanup.policy=compact topics whose dirty ratio is due."""
        loop = asyncio.get_running_loop()
        for plog in list(self.state.logs.logs.values()):
            config = plog.config
            now = int(time.time() * 1000)
            if not cleaner.due(plog, plog.cleaned_upto, now):
                continue
            with self._cleaner.guard(f"compaction of {plog.topic}-{plog.partition}"):
                planned = await loop.run_in_executor(
                    None, cleaner.plan, cleaner.snapshot(plog), now,
                    config.delete_retention_ms, config.min_compaction_lag_ms)
                if planned is not None and cleaner.swap(planned):
                    plog.cleaned_upto = planned.segments[-1].next_offset

    async def _flush_tick(self) -> None:
        """flush.ms: fsync partitions whose oldest unflushed write is older than that."""
        loop = asyncio.get_running_loop()
        for plog in list(self.state.logs.logs.values()):
            if plog.needs_flush():
                with self._flush.guard(f"flush of {plog.topic}-{plog.partition}"):
                    await loop.run_in_executor(None, plog.flush_handle())

    # --- connections --------------------------------------------------------------------

    def _opened(self, connection: FrameConnection, security: ListenerSecurity) -> None:
        self._connections.add(connection)
        task = asyncio.get_running_loop().create_task(self._serve(connection, security))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _serve(self, connection: FrameConnection, security: ListenerSecurity) -> None:
        host = connection.peer_host()
        connection_id = next(self._ids)
        try:
            assert connection.transport is not None
            session = security.new_session(connection.transport.get_extra_info("ssl_object"))
        except Exception as exc:
            log.warning("closing connection from %s on %s: no principal for its certificate: %s",
                        host, security.listener.name, exc)
            self._connections.discard(connection)
            connection.close()
            return
        try:
            while True:
                try:
                    async with asyncio.timeout(self.idle_seconds):
                        frame = await connection.next_frame()
                except TimeoutError:
                    log.debug("closing idle connection from %s", host)
                    return
                if frame is None or self.state.stopping:
                    return
                task = asyncio.current_task()
                assert task is not None
                self._busy.add(task)
                try:
                    started = time.perf_counter()
                    raw = session.raw_tokens  # a bare SASL token has no header to measure
                    response = await self._dispatch(frame, host, connection_id, session)
                    handled = time.perf_counter()
                    if response is not None:
                        await connection.send(response)
                finally:
                    self._busy.discard(task)
                if not raw:
                    self._measure(frame, connection.arrived, started, handled, host)
                if session.close_after:
                    await connection.linger(1.0)
                    return
                if self.state.stopping:
                    return
                if session.mute_ms:  # a quota's throttle: read nothing more until it ends (KIP-219)
                    await connection.mute(session.mute_ms / 1000)
                    session.mute_ms = 0
        except ConnectionRefused as exc:
            log.warning("closing connection from %s on %s: %s", host, security.listener.name, exc)
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

    async def _dispatch(self, frame: bytes | bytearray, host: str, connection_id: int,
                        session: Session) -> Chunks | None:
        if session.raw_tokens:
            return self._raw_token(frame, session, host)
        api_key, version, correlation_id = peek_header(frame)
        if session.gate:
            session.admit(api_key)
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
                             connection_id, session, entry.name)
        result = await entry.handler(ctx, request)
        if result is None:
            return None
        error_versions.downgrade(api_key, version, result)
        response_cls = response_class(api_key, version)
        return encode_response_chunks(response_cls, correlation_id, build(response_cls, result),
                                      header_v0=api_key == API_VERSIONS)

    def _raw_token(self, frame: bytes | bytearray, session: Session, host: str) -> Chunks:
        """A SASL token after a v0 SaslHandshake: no request header, answered the same way."""
        try:
            reply, _ = session.authenticate(bytes(frame))
        except AuthenticationFailed as exc:
            raise ConnectionRefused(f"SASL authentication failed: {exc}") from None
        if session.authenticated:
            log.debug("%s authenticated as %s", host, session.principal)
        return [len(reply).to_bytes(4, "big"), reply]

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
