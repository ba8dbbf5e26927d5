"""One Kafka request over a plain socket, for the admin calls confluent-kafka does not expose
(DescribeConfigs of broker defaults, ListOffsets EARLIEST_LOCAL / LATEST_TIERED,
DescribeLogDirs). Frames are built with fjord.protocol.codec, so they are exactly what a
Kafka client sends; any Kafka broker answers them."""

from __future__ import annotations

import socket
import struct
from typing import Any

from fjord.cli.output import TIMEOUT, fail
from fjord.protocol.codec import build, decode_response, encode_request, request_class, response_class


def call(bootstrap: str, api_key: int, version: int, body: dict[str, Any]) -> Any:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    request_cls = request_class(api_key, version)
    try:
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
            sock.sendall(encode_request(request_cls, 1, "fjord-cli", build(request_cls, body)))
            size = struct.unpack(">i", _read(sock, 4))[0]
            return decode_response(response_class(api_key, version), _read(sock, size))[1]
    except (OSError, ValueError) as exc:
        fail(f"cannot reach the broker at {bootstrap}: {exc}")


def _read(sock: socket.socket, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return bytes(data)
