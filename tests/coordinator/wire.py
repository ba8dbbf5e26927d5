"""A bare Kafka-protocol connection for tests that need exact requests and error codes."""

from __future__ import annotations

import socket
import struct
from typing import Any

from fjord.protocol.codec import build, decode_response, encode_request, request_class, response_class


class Wire:
    def __init__(self, bootstrap: str, client_id: str = "wire-test") -> None:
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.client_id = client_id
        self.correlation = 0

    def call(self, key: int, version: int, body: dict[str, Any]) -> Any:
        self.correlation += 1
        request = build(request_class(key, version), body)
        self.sock.sendall(encode_request(type(request), self.correlation, self.client_id, request))
        (size,) = struct.unpack(">i", self._read(4))
        correlation, response = decode_response(response_class(key, version), self._read(size))
        assert correlation == self.correlation
        return response

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()


def subscription(*topics: str) -> bytes:
    """ConsumerProtocolSubscription v0: version, topics, null user data."""
    out = struct.pack(">hi", 0, len(topics))
    for topic in topics:
        out += struct.pack(">h", len(topic)) + topic.encode()
    return out + struct.pack(">i", -1)


def join(wire: Wire, group: str, member_id: str = "", instance: str | None = None,
         protocol_type: str = "consumer", session_ms: int = 6000, topics: tuple[str, ...] = ("t",),
         version: int = 5) -> Any:
    return wire.call(11, version, {
        "group_id": group, "session_timeout": session_ms, "rebalance_timeout": 10000,
        "member_id": member_id, "group_instance_id": instance, "protocol_type": protocol_type,
        "protocols": [{"name": "range", "metadata": subscription(*topics)}],
    })


def join_and_sync(wire: Wire, group: str, instance: str | None = None,
                  topics: tuple[str, ...] = ("t",), member_id: str = "") -> tuple[str, int]:
    """The whole dance for a lone member: (member id, generation)."""
    first = join(wire, group, member_id, instance=instance, topics=topics)
    member_id = first.member_id
    if first.error_code.value == 79:  # MEMBER_ID_REQUIRED
        first = join(wire, group, member_id, instance=instance, topics=topics)
    assert first.error_code.value == 0, first
    sync = wire.call(14, 3, {"group_id": group, "generation_id": first.generation_id,
                             "member_id": first.member_id, "group_instance_id": instance,
                             "assignments": [{"member_id": first.member_id, "assignment": b"x"}]})
    assert sync.error_code.value == 0, sync
    return first.member_id, first.generation_id


def heartbeat(wire: Wire, group: str, member_id: str, generation: int,
              instance: str | None = None) -> int:
    response = wire.call(12, 4, {"group_id": group, "generation_id": generation,
                                 "member_id": member_id, "group_instance_id": instance})
    return int(response.error_code.value)


def commit(wire: Wire, group: str, member_id: str, generation: int, offsets: dict[tuple[str, int], int],
           instance: str | None = None, metadata: str = "") -> dict[tuple[str, int], int]:
    topics: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), offset in offsets.items():
        topics.setdefault(topic, []).append({"partition_index": partition, "committed_offset": offset,
                                             "committed_metadata": metadata})
    response = wire.call(8, 8, {
        "group_id": group, "generation_id_or_member_epoch": generation, "member_id": member_id,
        "group_instance_id": instance,
        "topics": [{"name": t, "partitions": ps} for t, ps in topics.items()],
    })
    return {(t.name, p.partition_index): int(p.error_code.value)
            for t in response.topics for p in t.partitions}
