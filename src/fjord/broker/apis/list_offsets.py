"""ListOffsets (2): earliest (-2), latest (-1), max timestamp (-3), earliest local (-4),
latest tiered (-5), or the first offset at or after a timestamp.

Versions: v1-v9

Version notes:
* v0: removed by KIP-896 - not served
* v2: isolation_level (read_committed stops at the LSO)
* v3: same as v2
* v4: current_leader_epoch in the request, leader_epoch in the response
* v5: same as v4
* v6: flexible versions
* v7: max timestamp (-3, KIP-734)
* v8: earliest local (-4) and latest tiered (-5) offsets (KIP-405)
* v9: same as v8 (KIP-1005: -5 answered for every client)
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import denied_topics
from fjord.broker.state import BrokerState
from fjord.security.acls import Op
from fjord.storage.log import PartitionLog
from fjord.storage.remote.storage_manager import RemoteStorageError

LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -1, -2, -3, -4, -5


async def lookup(broker: BrokerState, plog: PartitionLog, timestamp: int,
                 committed: bool = False) -> tuple[int, int]:
    """(offset, timestamp) for a ListOffsets timestamp query; (-1, -1) when none.

    read_committed clients see the last stable offset as "latest", as in Kafka. With tiered
    storage EARLIEST is the remote tier's start, EARLIEST_LOCAL the local log's and
    LATEST_TIERED the highest offset copied (KIP-405, KIP-1005).
    """
    remote = broker.remote
    if timestamp == LATEST:
        return (plog.last_stable_offset if committed else plog.high_watermark), -1
    if timestamp == EARLIEST:
        return broker.log_start_offset(plog), -1
    if timestamp == EARLIEST_LOCAL:
        return plog.log_start_offset, -1
    if timestamp == LATEST_TIERED:
        return (remote.latest_tiered(plog) if remote is not None else -1), -1
    if timestamp == MAX_TIMESTAMP:
        found = plog.max_timestamp_offset()
    else:
        found = None
        if remote is not None and timestamp >= 0:
            found = await remote.offset_for_timestamp(plog, timestamp)
        if found is None:
            found = plog.offset_for_timestamp(timestamp)
    return found if found is not None else (-1, -1)


@api(2, "ListOffsets", 1, 9)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    committed = getattr(request, "isolation_level", 0) == 1
    denied = (denied_topics(ctx, Op.DESCRIBE, [t.name for t in request.topics])
              if ctx.broker.authorizer is not None else frozenset())
    topics = []
    for topic in request.topics:
        partitions = []
        for part in topic.partitions:
            plog = ctx.broker.partition(topic.name, part.partition_index)
            if plog is None or topic.name in denied:
                partitions.append({"partition_index": part.partition_index,
                                   "error_code": ErrorCode.topic_authorization_failed
                                   if topic.name in denied else ErrorCode.unknown_topic_or_partition,
                                   "timestamp": -1, "offset": -1, "leader_epoch": -1})
                continue
            try:
                offset, stamp = await lookup(ctx.broker, plog, part.timestamp, committed)
            except RemoteStorageError:
                partitions.append({"partition_index": part.partition_index,
                                   "error_code": ErrorCode.kafka_storage_error,
                                   "timestamp": -1, "offset": -1, "leader_epoch": -1})
                continue
            partitions.append({"partition_index": part.partition_index, "error_code": 0,
                               "timestamp": stamp, "offset": offset, "leader_epoch": 0})
        topics.append({"name": topic.name, "partitions": partitions})
    return {"topics": topics}
