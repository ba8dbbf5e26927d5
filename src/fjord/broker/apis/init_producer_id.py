"""InitProducerId (22): ids for idempotent producers.

A producer that passes its current id and epoch (KIP-360) gets the epoch bumped so it can
reset its sequences; transactional ids belong to the transactions work and are refused
with a clear message until then.
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api

log = logging.getLogger("fjord.broker")
MAX_EPOCH = 32767


@api(22, "InitProducerId", 0, 5)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if request.transactional_id is not None:
        log.warning("client %s asked for transactional id %r: transactions are not supported yet",
                    ctx.client_id, request.transactional_id)
        return {"error_code": ErrorCode.invalid_request, "producer_id": -1, "producer_epoch": -1}
    current = getattr(request, "producer_id", -1)
    epoch = getattr(request, "producer_epoch", -1)
    if current >= 0 and 0 <= epoch < MAX_EPOCH - 1:
        return {"error_code": 0, "producer_id": current, "producer_epoch": epoch + 1}
    return {"error_code": 0, "producer_id": ctx.broker.producer_ids.next_id(), "producer_epoch": 0}
