"""Who may call the control plane: anyone on loopback; elsewhere only holders of the token.

Off loopback the API changes clusters and the console shows every record, so a listener on any
other address refuses to start without a token, and then every request must carry it, as
`Authorization: Bearer TOKEN` or as the password of HTTP basic auth (any user name).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


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
        given = presented_token(request.headers.get("authorization", ""))
        if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
            return JSONResponse({"message": "This control plane needs its API token: send "
                                            "Authorization: Bearer TOKEN or basic auth"},
                                status_code=401,
                                headers={"x-amzn-ErrorType": "UnauthorizedException",
                                         "WWW-Authenticate": 'Basic realm="fjord"'})
        return await call_next(request)
