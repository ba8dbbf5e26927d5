"""A Kafka protocol connection for Fjord's hand-written clients (Connect's group membership,
the CLI's admin calls confluent-kafka does not expose), with the client's security: TLS
for SSL/SASL_SSL and SASL PLAIN or SCRAM for SASL_*. Settings use librdkafka's names, as
fjord.config.client_security gives them from Kafka's Java keys.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import ssl
import struct
import threading
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.protocol.codec import build, decode_response, encode_request, request_class, response_class
from fjord.protocol.sasl_client import SaslClient, SaslClientError

SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
AUTH_VERSIONS = {SASL_HANDSHAKE: 1, SASL_AUTHENTICATE: 2}


class ClientSecurity:
    """A client's security in librdkafka's names: TLS for SSL/SASL_SSL, then SASL PLAIN or
    SCRAM for SASL_*."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.protocol = str(settings.get("security.protocol", "PLAINTEXT")).upper()
        self.mechanism = str(settings.get("sasl.mechanism", settings.get("sasl.mechanisms", "GSSAPI")))
        self.username = str(settings.get("sasl.username", ""))
        self.password = str(settings.get("sasl.password", ""))
        self.context: ssl.SSLContext | None = None
        self.verify_host = str(settings.get("ssl.endpoint.identification.algorithm", "https")) != "none"
        if self.protocol in ("SSL", "SASL_SSL"):
            context = ssl.create_default_context(
                cafile=settings.get("ssl.ca.location"), cadata=settings.get("ssl.ca.pem"))
            context.check_hostname = self.verify_host
            if settings.get("ssl.certificate.location"):
                context.load_cert_chain(settings["ssl.certificate.location"],
                                        settings.get("ssl.key.location"), settings.get("ssl.key.password"))
            self.context = context

    def secure(self, sock: socket.socket, host: str) -> socket.socket:
        return self.context.wrap_socket(sock, server_hostname=host) if self.context else sock

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")


class WireConnection:
    def __init__(self, host: str, port: int, timeout: float, security: ClientSecurity | None = None,
                 versions: dict[int, int] | None = None, client_id: str = "fjord") -> None:
        self.versions = {**AUTH_VERSIONS, **(versions or {})}
        self.client_id = client_id
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = security.secure(sock, host) if security is not None else sock
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        if security is not None and security.sasl:
            self._authenticate(security, timeout)

    def _authenticate(self, security: ClientSecurity, timeout: float) -> None:
        try:
            client = SaslClient(security.mechanism, security.username, security.password)
        except SaslClientError as exc:
            raise ConnectionError(str(exc)) from None
        shake = self.request(SASL_HANDSHAKE, {"mechanism": client.mechanism}, timeout)
        if int(shake.error_code) != ErrorCode.none:
            raise ConnectionError(f"SaslHandshake failed with error code {int(shake.error_code)} "
                                  f"(broker offers {', '.join(shake.mechanisms)})")
        token: bytes | None = client.first()
        while token is not None:
            answer = self.request(SASL_AUTHENTICATE, {"auth_bytes": token}, timeout)
            if int(answer.error_code) != ErrorCode.none:
                raise ConnectionError(f"SASL authentication failed: {answer.error_message}")
            try:
                token = client.respond(bytes(answer.auth_bytes))
            except SaslClientError as exc:
                raise ConnectionError(str(exc)) from None

    def request(self, api_key: int, body: dict[str, Any], timeout: float,
                version: int | None = None) -> Any:
        version = self.versions[api_key] if version is None else version
        req_cls = request_class(api_key, version)
        resp_cls = response_class(api_key, version)
        with self._lock:
            correlation = next(self._ids)
            self.sock.settimeout(timeout)
            self.sock.sendall(encode_request(req_cls, correlation, self.client_id, build(req_cls, body)))
            size = struct.unpack(">i", self._read(4))[0]
            payload = self._read(size)
        got, response = decode_response(resp_cls, payload)
        if got != correlation:
            raise ConnectionError(f"correlation id mismatch: sent {correlation}, got {got}")
        return response

    def _read(self, count: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < count:
            data = self.sock.recv(count - len(chunks))
            if not data:
                raise ConnectionError("connection closed by broker")
            chunks += data
        return bytes(chunks)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
