"""SaslAuthenticate (36): one token of the chosen mechanism's exchange.

Versions: v0-v2

Version notes:
* v1: session_lifetime_ms (KIP-368 re-authentication)
* v2: flexible versions

A failure is answered with SASL_AUTHENTICATION_FAILED and its message, then the
connection closes (Kafka's behaviour). session_lifetime_ms (v1+) tells a client when it
must re-authenticate (KIP-368): connections.max.reauth.ms, or less if its token expires.
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.security.sasl import AuthenticationFailed

log = logging.getLogger("fjord.security")


@api(36, "SaslAuthenticate", 0, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    session = ctx.session
    mechanism = session.sasl.mechanism if session.sasl is not None else "?"
    try:
        reply, lifetime = session.authenticate(bytes(request.auth_bytes))
    except AuthenticationFailed as exc:
        session.close_after = True
        log.warning("failed authentication with %s on %s (%s): %s", ctx.client_host,
                    session.listener.listener.name, mechanism, exc)
        return {"error_code": ErrorCode.sasl_authentication_failed, "error_message": str(exc),
                "auth_bytes": b"", "session_lifetime": 0}
    if session.sasl is None:
        log.debug("%s authenticated as %s with %s", ctx.client_host, session.principal, mechanism)
    return {"error_code": ErrorCode.none, "error_message": None, "auth_bytes": reply,
            "session_lifetime": lifetime}
