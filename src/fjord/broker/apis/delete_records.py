"""DeleteRecords (21): move a partition's log start offset forward (-1 means the HW).

Versions: v0-v2

Version notes:
* v1: same as v0 (throttle on quota violation)
* v2: flexible versions
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import topic_denied
from fjord.security.acls import Op
from fjord.storage.log import OffsetOutOfRange


@api(21, "DeleteRecords", 0, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    topics = []
    for topic in request.topics:
        partitions = []
        for part in topic.partitions:
            plog = broker.partition(topic.name, part.partition_index)
            entry: dict[str, Any] = {"partition_index": part.partition_index,
                                     "low_watermark": -1, "error_code": 0}
            if topic_denied(ctx, Op.DELETE, topic.name):
                entry["error_code"] = ErrorCode.topic_authorization_failed
            elif plog is None:
                entry["error_code"] = ErrorCode.unknown_topic_or_partition
            else:
                target = plog.high_watermark if part.offset == -1 else part.offset
                try:
                    if target < 0:
                        raise OffsetOutOfRange(target)
                    plog.delete_records(target)
                    if broker.remote is not None:
                        broker.remote.delete_records(plog, target)
                    entry["low_watermark"] = broker.log_start_offset(plog)
                except OffsetOutOfRange:
                    entry["error_code"] = ErrorCode.offset_out_of_range
            partitions.append(entry)
        topics.append({"name": topic.name, "partitions": partitions})
    broker.logs.checkpoint_starts()
    return {"topics": topics}
