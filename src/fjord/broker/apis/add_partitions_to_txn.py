"""AddPartitionsToTxn (24): the client form (v0-v3) that names the partitions a
transaction is about to write to. (v4+ is the broker-to-coordinator verification form,
which one node has no use for.)

Versions: v0-v3

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: same as v1
* v3: flexible versions
* v4+: the broker-to-coordinator batched verification form (KIP-890) - not served
"""

from __future__ import annotations

from typing import Any

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import txn_denial
from fjord.coordinator.transactions import TxnError


@api(24, "AddPartitionsToTxn", 0, 3)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    wanted = [(t.name, p) for t in request.v3_and_below_topics for p in t.partitions]
    denied = txn_denial(ctx, request.v3_and_below_transactional_id)
    try:
        if denied is not None:
            raise TxnError(denied, "Transactional id authorization failed.")
        codes = ctx.broker.transactions.add_partitions(
            request.v3_and_below_transactional_id, request.v3_and_below_producer_id,
            request.v3_and_below_producer_epoch, wanted)
    except TxnError as exc:
        codes = {tp: exc.code for tp in wanted}
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), code in codes.items():
        by_topic.setdefault(topic, []).append(
            {"partition_index": partition, "partition_error_code": code})
    return {"results_by_topic_v3_and_below": [
        {"name": name, "results_by_partition": parts} for name, parts in by_topic.items()]}
