"""Who may call the control plane: anyone on loopback; elsewhere only holders of the token.

Off loopback the API changes clusters and the console shows every record, so a listener on any
other address refuses to start without a token, and then every request must carry it, as
`Authorization: Bearer TOKEN`, as the password of HTTP basic auth (any user name), or as the
secret access key an AWS SDK signs with (SigV4, see sigv4.py).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from fjord.control import sigv4


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def presented_token(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return decoded.partition(":")[2]
    return None


class TokenAuth(BaseHTTPMiddleware):
    def __init__(self, app: object, token: str) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.token = token

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        header = request.headers.get("authorization", "")
        if header.startswith(sigv4.ALGORITHM):
            raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
            signed = sigv4.verify(request.method, raw_path, request.scope.get("query_string", b"").decode(),
                                  {k.lower(): v for k, v in request.headers.items()}, await request.body(),
                                  self.token)
            if signed:
                return await call_next(request)
        given = presented_token(header)
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            return JSONResponse({"message": "This control plane needs its API token: send "
                                            "Authorization: Bearer TOKEN or basic auth"},
                                status_code=401,
                                headers={"x-amzn-ErrorType": "UnauthorizedException",
                                         "WWW-Authenticate": 'Basic realm="fjord"'})
        return await call_next(request)
