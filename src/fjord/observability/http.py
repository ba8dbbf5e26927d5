"""A small HTTP/1.1 server on the broker's own event loop, for the admin listener.

Why not uvicorn: the broker owns its loop and its signal handlers, and its admin surface
is a handful of GET/PUT routes answered from memory; an asyncio stream server with
keep-alive is all Prometheus and a console need, and it adds no thread and no framework
to the broker process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger("fjord.admin")

MAX_HEADER = 64 * 1024
MAX_BODY = 1024 * 1024
IDLE_SECONDS = 300  # longer than any scrape interval people use
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found",
            405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(value, indent=1).encode() + b"\n")

    @classmethod
    def error(cls, status: int, message: str) -> Response:
        return cls.json({"error_code": status, "message": message}, status)


Handler = Callable[[Request], Awaitable[Response] | Response]


class Router:
    """Routes like `/v1/groups/{group}`: a path parameter matches one segment."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((method, re.compile(regex), handler))

    def route(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """(handler, params, whether the path exists under another method)."""
        known = False
        for wanted, regex, handler in self._routes:
            match = regex.match(path)
            if match is None:
                continue
            if wanted == method or (method == "HEAD" and wanted == "GET"):
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}, True
            known = True
        return None, {}, known


class HttpServer:
    def __init__(self, router: Router) -> None:
        self.router = router
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._client, host or None, port,
                                                  reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    async with asyncio.timeout(IDLE_SECONDS):  # idle keep-alive connections end
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                request = self._parse(head)
                if request is None:
                    await self._write(writer, Response.error(400, "malformed request"), False)
                    return
                length = int(request.headers.get("content-length", "0") or 0)
                if length > MAX_BODY:
                    await self._write(writer, Response.error(413, "body too large"), False)
                    return
                if length:
                    request.body = await reader.readexactly(length)
                response = await self._handle(request)
                keep = request.headers.get("connection", "").lower() != "close"
                await self._write(writer, response, keep, request.method == "HEAD")
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    @staticmethod
    def _parse(head: bytes) -> Request | None:
        try:
            lines = head.decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            return None
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        parts = urlsplit(target)
        return Request(method.upper(), parts.path, parse_qs(parts.query), headers, b"")

    async def _handle(self, request: Request) -> Response:
        handler, params, known = self.router.route(request.method, request.path.rstrip("/") or "/")
        if handler is None:
            if known:
                return Response.error(405, f"{request.method} is not allowed on {request.path}")
            return Response.error(404, f"no such path: {request.path}")
        request.params = params
        try:
            result = handler(request)
            if asyncio.iscoroutine(result) or isinstance(result, Awaitable):
                result = await result
            assert isinstance(result, Response)
            return result
        except Exception as exc:
            log.exception("admin request %s %s failed", request.method, request.path)
            return Response.error(500, f"internal error: {exc}")

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, response: Response, keep: bool,
                     head_only: bool = False) -> None:
        reason = _REASONS.get(response.status, "")
        headers = (f"HTTP/1.1 {response.status} {reason}\r\n"
                   f"Content-Type: {response.content_type}\r\n"
                   f"Content-Length: {len(response.body)}\r\n"
                   f"Connection: {'keep-alive' if keep else 'close'}\r\n\r\n")
        writer.write(headers.encode("latin-1"))
        if not head_only:
            writer.write(response.body)
        await writer.drain()
