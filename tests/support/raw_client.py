"""A Kafka protocol client over a raw socket, for requests no client library sends as the
test needs them (bad input, ListOffsets -4/-5, a Fetch of chosen partitions).

Frames are built with fjord.protocol.codec (kio's message classes), so the good parts of a
request are exactly what a client would send.
"""

from __future__ import annotations

import socket
import ssl
import struct
from typing import Any

from fjord.protocol.codec import build, decode_response, encode_request, request_class, response_class
from tests.support.broker import BrokerProcess

API_VERSIONS = 18


class RawClient:
    def __init__(self, broker: BrokerProcess | int, context: ssl.SSLContext | None = None,
                 client_id: str = "raw-test") -> None:
        """A broker (its first listener) or a port; TLS when a context is given."""
        port = broker if isinstance(broker, int) else broker.port
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = context.wrap_socket(sock, server_hostname="127.0.0.1") if context else sock
        self.correlation = 0
        self.client_id = client_id

    def send(self, api_key: int, version: int, body: dict[str, Any]) -> None:
        self.correlation += 1
        cls = request_class(api_key, version)
        self.sock.sendall(encode_request(cls, self.correlation, self.client_id, build(cls, body)))

    def receive(self, api_key: int, version: int, header_v0: bool = False) -> Any:
        payload = self.read_frame()
        assert payload is not None, "connection closed instead of an answer"
        correlation, response = decode_response(response_class(api_key, version), payload,
                                                header_v0=header_v0 or api_key == API_VERSIONS)
        assert correlation == self.correlation
        return response

    def call(self, api_key: int, version: int, body: dict[str, Any]) -> Any:
        self.send(api_key, version, body)
        return self.receive(api_key, version)

    def read_frame(self) -> bytes | None:
        head = self._read(4)
        if head is None:
            return None
        (size,) = struct.unpack(">i", head)
        return self._read(size)

    def _read(self, count: int) -> bytes | None:
        data = b""
        while len(data) < count:
            try:
                chunk = self.sock.recv(count - len(data))
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def closed_by_broker(self) -> bool:
        return self.read_frame() is None

    def close(self) -> None:
        self.sock.close()
