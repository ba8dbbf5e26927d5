"""WriteTxnMarkers (27): write COMMIT/ABORT markers for a producer into partitions.

Versions: v1-v2

Version notes:
* v0: removed by KIP-896 - not served
* v1: flexible versions (the admin tool's `--abort` path reaches this)
* v2: transaction_version per marker

In a cluster the coordinator sends this to partition leaders; here the coordinator writes
its markers itself, and this API serves the administrative abort of a hanging transaction
(kafka-transactions.sh abort, AdminClient.abortTransaction). A marker older than the
producer's current epoch is refused, as Kafka's leader does.
"""

from __future__ import annotations

import time
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import cluster_denied
from fjord.security.acls import Op


@api(27, "WriteTxnMarkers", 1, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    now = int(time.time() * 1000)
    markers = []
    denied = cluster_denied(ctx, Op.CLUSTER_ACTION)  # only brokers and admins write markers
    for marker in request.markers:
        topics = []
        for topic in marker.topics:
            partitions = []
            for index in topic.partition_indexes:
                plog = ctx.broker.partition(topic.name, index)
                code = ErrorCode.none
                if denied:
                    code = ErrorCode.cluster_authorization_failed
                elif plog is None:
                    code = ErrorCode.unknown_topic_or_partition
                else:
                    known = plog.producers.producers.get(marker.producer_id)
                    if known is not None and marker.producer_epoch < known.epoch:
                        code = ErrorCode.invalid_producer_epoch
                    else:
                        try:
                            plog.append_marker(marker.producer_id, marker.producer_epoch,
                                               marker.transaction_result, now)
                        except OSError:
                            code = ErrorCode.kafka_storage_error
                partitions.append({"partition_index": index, "error_code": code})
            topics.append({"name": topic.name, "partitions": partitions})
        markers.append({"producer_id": marker.producer_id, "topics": topics})
    return {"markers": markers}
