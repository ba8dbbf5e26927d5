"""SaslHandshake (17): pick a mechanism on a SASL listener.

Versions: v0-v1

Version notes:
* v0: raw tokens follow, without Kafka request headers
* v1: SaslAuthenticate requests follow (KIP-152)

v1 is followed by SaslAuthenticate requests; v0 by raw tokens without a request header
(the pre-KIP-152 form some clients still speak). An unknown mechanism is answered with
UNSUPPORTED_SASL_MECHANISM and the enabled list, then the connection closes, as in Kafka.
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api

log = logging.getLogger("fjord.security")


@api(17, "SaslHandshake", 0, 1)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    session = ctx.session
    enabled = session.listener.mechanisms
    if not session.listener.sasl:
        session.close_after = True
        return {"error_code": ErrorCode.illegal_sasl_state, "mechanisms": []}
    if not session.handshake(request.mechanism):
        log.warning("closing connection from %s: SASL mechanism %s is not enabled on %s (enabled: %s)",
                    ctx.client_host, request.mechanism, session.listener.listener.name, ",".join(enabled))
        return {"error_code": ErrorCode.unsupported_sasl_mechanism, "mechanisms": enabled}
    session.raw_tokens = ctx.api_version == 0
    return {"error_code": ErrorCode.none, "mechanisms": enabled}
