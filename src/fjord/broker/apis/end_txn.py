"""EndTxn (26): commit or abort — markers go into every partition of the transaction.

Versions: v0-v4

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: same as v1
* v3: flexible versions
* v4: KIP-890 error codes (TRANSACTION_ABORTABLE)
* v5 (KIP-890 part 2: epoch bump on every commit) - not served
"""

from __future__ import annotations

import asyncio
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import txn_denial
from fjord.coordinator.transactions import TxnError


@api(26, "EndTxn", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    coordinator = ctx.broker.transactions
    denied = txn_denial(ctx, request.transactional_id)
    if denied is not None:
        return {"error_code": denied}
    try:
        coordinator.end(request.transactional_id, request.producer_id, request.producer_epoch,
                        request.committed)
    except TxnError as exc:
        return {"error_code": exc.code}
    except OSError:
        return {"error_code": ErrorCode.kafka_storage_error}
    to_flush = [plog for plog in ctx.broker.logs.logs.values() if plog.needs_flush()]
    if to_flush:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, p.flush_handle()) for p in to_flush))
    return {"error_code": 0}
