"""TxnOffsetCommit (28): offsets that become the group's committed offsets only if the
transaction commits (EndTxn), so a consume-transform-produce loop is exactly once.

Versions: v0-v4

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: committed_leader_epoch
* v3: flexible versions; generation_id, member_id, group_instance_id (KIP-447 fencing)
* v4: same as v3 (KIP-890 TRANSACTION_ABORTABLE)
* v5 (KIP-890 part 2) - not served
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import txn_denial
from fjord.coordinator.transactions import TxnError


@api(28, "TxnOffsetCommit", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    staged: dict[tuple[str, int], tuple[int, int, str]] = {}
    codes: dict[tuple[str, int], ErrorCode] = {}
    denied = txn_denial(ctx, request.transactional_id)
    if denied is not None:
        return {"topics": [{"name": t.name, "partitions": [
            {"partition_index": p.partition_index, "error_code": denied} for p in t.partitions]}
            for t in request.topics]}
    for topic in request.topics:
        info = ctx.broker.metadata.topics.get(topic.name)
        for part in topic.partitions:
            key = (topic.name, part.partition_index)
            if info is None or not 0 <= part.partition_index < info.partitions:
                codes[key] = ErrorCode.unknown_topic_or_partition
                continue
            staged[key] = (part.committed_offset, getattr(part, "committed_leader_epoch", -1),
                           part.committed_metadata or "")
            codes[key] = ErrorCode.none
    if staged:
        try:
            ctx.broker.transactions.stage_offsets(request.transactional_id, request.producer_id,
                                               request.producer_epoch, request.group_id, staged)
        except TxnError as exc:
            codes = {key: exc.code for key in codes}
    by_topic: dict[str, list[dict[str, Any]]] = {}
    for (topic, partition), code in codes.items():
        by_topic.setdefault(topic, []).append({"partition_index": partition, "error_code": code})
    return {"topics": [{"name": name, "partitions": parts} for name, parts in by_topic.items()]}
