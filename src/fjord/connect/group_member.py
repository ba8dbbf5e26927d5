"""Membership in a Kafka group with protocol_type "connect", spoken over the wire.

confluent-kafka does not expose custom group protocols, so the distributed herder uses this
small client — FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup built with kio
classes through fjord.protocol.codec — which is what Kafka's WorkerCoordinator does. It
works against a Fjord broker and Apache Kafka alike.

The protocol is eager: before rejoining, the member revokes everything it runs, so no task
ever runs on two workers of one generation.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.connect.wire import ClientSecurity, WireConnection

log = logging.getLogger("fjord.connect.group")

FIND_COORDINATOR, JOIN_GROUP, HEARTBEAT, LEAVE_GROUP, SYNC_GROUP = 10, 11, 12, 13, 14
VERSIONS = {FIND_COORDINATOR: 2, JOIN_GROUP: 5, HEARTBEAT: 3, LEAVE_GROUP: 3, SYNC_GROUP: 3}


PROTOCOL_TYPE = "connect"
PROTOCOL_NAME = "default"


class GroupRequestError(Exception):
    def __init__(self, code: int, where: str) -> None:
        super().__init__(f"{where} failed with error code {code}")
        self.code = code


def _connection(host: str, port: int, timeout: float, security: ClientSecurity) -> WireConnection:
    return WireConnection(host, port, timeout, security, versions=VERSIONS, client_id="fjord-connect")


class GroupMember:
    """Runs the join/sync/heartbeat cycle in its own thread and calls back on changes.

    `metadata()` gives this member's protocol metadata; the elected leader gets every member's
    metadata in `assign(members)` and returns each member's assignment bytes. `on_assigned`
    receives this member's assignment and generation; `on_revoked` must stop all work
    before returning.
    """

    def __init__(self, bootstrap: str, group_id: str, session_timeout_ms: int,
                 rebalance_timeout_ms: int, heartbeat_interval_ms: int,
                 metadata: Callable[[], bytes],
                 assign: Callable[[list[tuple[str, bytes]]], dict[str, bytes]],
                 on_assigned: Callable[[bytes, int, str], None],
                 on_revoked: Callable[[], None], security: dict[str, Any] | None = None) -> None:
        self.bootstrap = [tuple(item.strip().rsplit(":", 1)) for item in bootstrap.split(",")]
        self.group_id = group_id
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.heartbeat_interval_s = heartbeat_interval_ms / 1000.0
        self.metadata = metadata
        self.assign = assign
        self.on_assigned = on_assigned
        self.on_revoked = on_revoked
        self.security = ClientSecurity(security or {})
        self.member_id = ""
        self.generation = -1
        self.leader_id = ""
        self._coordinator: WireConnection | None = None
        self._rejoin = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="connect-group-member", daemon=True)
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def request_rejoin(self) -> None:
        self._rejoin.set()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)
        if self._coordinator is not None and self.member_id:
            with contextlib.suppress(OSError, ConnectionError):
                self._coordinator.request(LEAVE_GROUP, {
                    "group_id": self.group_id, "members": [{"member_id": self.member_id}]}, 5)
            self._coordinator.close()

    # ------------------------------------------------------------------ protocol steps

    def _find_coordinator(self) -> WireConnection:
        last: Exception | None = None
        for host, port in self.bootstrap:
            try:
                conn = _connection(host, int(port), 10, self.security)
                response = conn.request(FIND_COORDINATOR, {"key": self.group_id, "key_type": 0}, 10)
                conn.close()
                code = int(response.error_code)
                if code != ErrorCode.none:
                    raise GroupRequestError(code, "FindCoordinator")
                return _connection(response.host, int(response.port), 10, self.security)
            except (OSError, ConnectionError, GroupRequestError) as exc:
                last = exc
        raise ConnectionError(f"no group coordinator for {self.group_id}: {last}")

    def _join(self, conn: WireConnection) -> None:
        timeout = self.rebalance_timeout_ms / 1000.0 + 10
        while True:
            response = conn.request(JOIN_GROUP, {
                "group_id": self.group_id, "session_timeout": self.session_timeout_ms,
                "rebalance_timeout": self.rebalance_timeout_ms, "member_id": self.member_id,
                "protocol_type": PROTOCOL_TYPE,
                "protocols": [{"name": PROTOCOL_NAME, "metadata": self.metadata()}]}, timeout)
            code = int(response.error_code)
            if code == ErrorCode.member_id_required:
                self.member_id = response.member_id
                continue
            if code == ErrorCode.unknown_member_id:
                self.member_id = ""
                continue
            if code != ErrorCode.none:
                raise GroupRequestError(code, "JoinGroup")
            break
        self.member_id = response.member_id
        self.generation = int(response.generation_id)
        self.leader_id = response.leader
        assignments: list[dict[str, Any]] = []
        if self.leader_id == self.member_id:
            members = [(m.member_id, bytes(m.metadata)) for m in response.members]
            assignments = [{"member_id": member, "assignment": data}
                           for member, data in self.assign(members).items()]
        sync = conn.request(SYNC_GROUP, {
            "group_id": self.group_id, "generation_id": self.generation,
            "member_id": self.member_id, "assignments": assignments}, timeout)
        code = int(sync.error_code)
        if code != ErrorCode.none:
            raise GroupRequestError(code, "SyncGroup")
        self.on_assigned(bytes(sync.assignment), self.generation, self.leader_id)

    def _heartbeat(self, conn: WireConnection) -> int:
        response = conn.request(HEARTBEAT, {"group_id": self.group_id,
                                            "generation_id": self.generation,
                                            "member_id": self.member_id}, 10)
        return int(response.error_code)

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        need_join = True
        revoked = True
        while not self._stopping.is_set():
            try:
                if self._coordinator is None:
                    self._coordinator = self._find_coordinator()
                if need_join or self._rejoin.is_set():
                    self._rejoin.clear()
                    if not revoked:
                        self.on_revoked()
                        revoked = True
                    self._join(self._coordinator)
                    need_join, revoked = False, False
                    self.last_error = None
                deadline = time.monotonic() + self.heartbeat_interval_s
                while time.monotonic() < deadline and not self._stopping.is_set() \
                        and not self._rejoin.is_set():
                    time.sleep(0.05)
                if self._stopping.is_set():
                    break
                code = self._heartbeat(self._coordinator)
                if code in (ErrorCode.rebalance_in_progress,):
                    need_join = True
                elif code in (ErrorCode.unknown_member_id, ErrorCode.illegal_generation):
                    self.member_id = "" if code == ErrorCode.unknown_member_id else self.member_id
                    need_join = True
                elif code in (ErrorCode.not_coordinator, ErrorCode.coordinator_not_available):
                    self._drop_coordinator()
                    need_join = True
                elif code != ErrorCode.none:
                    log.warning("heartbeat error %d", code)
            except GroupRequestError as exc:
                self.last_error = str(exc)
                log.info("group %s: %s; rejoining", self.group_id, exc)
                if exc.code in (ErrorCode.unknown_member_id, ErrorCode.illegal_generation):
                    self.member_id = "" if exc.code == ErrorCode.unknown_member_id else self.member_id
                if exc.code in (ErrorCode.not_coordinator, ErrorCode.coordinator_not_available,
                                ErrorCode.coordinator_load_in_progress):
                    self._drop_coordinator()
                need_join = True
                time.sleep(0.2)
            except (OSError, ConnectionError) as exc:
                self.last_error = f"cannot reach the group coordinator: {exc}"
                log.warning("group %s: %s", self.group_id, self.last_error)
                self._drop_coordinator()
                need_join = True
                time.sleep(1.0)
        if not revoked:
            self.on_revoked()

    def _drop_coordinator(self) -> None:
        if self._coordinator is not None:
            self._coordinator.close()
        self._coordinator = None
