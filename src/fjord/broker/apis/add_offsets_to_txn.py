"""AddOffsetsToTxn (25): a transaction will commit offsets for this consumer group.

Versions: v0-v4

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: same as v1 (TRANSACTION_ABORTABLE may be returned from v4 clients)
* v3: flexible versions
* v4: KIP-890 error codes: TRANSACTION_ABORTABLE is answered instead of a fatal error
"""

from __future__ import annotations

from typing import Any

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import txn_denial
from fjord.coordinator.transactions import TxnError


@api(25, "AddOffsetsToTxn", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    denied = txn_denial(ctx, request.transactional_id)
    if denied is not None:
        return {"error_code": denied}
    try:
        ctx.broker.transactions.add_offsets(request.transactional_id, request.producer_id,
                                         request.producer_epoch, request.group_id)
    except TxnError as exc:
        return {"error_code": exc.code}
    return {"error_code": 0}
