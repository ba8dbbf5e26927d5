"""InitProducerId (22): producer ids for idempotent and transactional producers.

Versions: v0-v5

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: flexible versions
* v3: producer_id and producer_epoch of the caller, to bump its epoch (KIP-360)
* v4: PRODUCER_FENCED instead of INVALID_PRODUCER_EPOCH (KIP-588)
* v5: same as v4 (KIP-890 TRANSACTION_ABORTABLE)

Without a transactional id a fresh id is handed out, or — when the producer passes its
current id and epoch (KIP-360) — the epoch is bumped so it can reset its sequences. With
one, the transaction coordinator fences older incarnations and aborts what they left open.
"""

from __future__ import annotations

from typing import Any

from fjord.broker.context import RequestContext
from fjord.broker.groups import millis
from fjord.broker.registry import api
from fjord.broker.security import init_denial
from fjord.coordinator.transactions import MAX_EPOCH, TxnError


@api(22, "InitProducerId", 0, 5)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    current = getattr(request, "producer_id", -1)
    epoch = getattr(request, "producer_epoch", -1)
    if ctx.broker.authorizer is not None:
        denied = init_denial(ctx, request.transactional_id)
        if denied is not None:
            return {"error_code": denied, "producer_id": -1, "producer_epoch": -1}
    if request.transactional_id is not None:
        try:
            pid, new_epoch = ctx.broker.transactions.init_producer_id(
                request.transactional_id, millis(request.transaction_timeout), current, epoch)
        except TxnError as exc:
            return {"error_code": exc.code, "producer_id": -1, "producer_epoch": -1}
        return {"error_code": 0, "producer_id": pid, "producer_epoch": new_epoch}
    if current >= 0 and 0 <= epoch < MAX_EPOCH - 1:
        return {"error_code": 0, "producer_id": current, "producer_epoch": epoch + 1}
    return {"error_code": 0, "producer_id": ctx.broker.producer_ids.next_id(), "producer_epoch": 0}
