"""AlterReplicaLogDirs (34): move a partition to another of the broker's log.dirs.

Versions: v1-v2

Version notes:
* v0: removed by KIP-896 - not served
* v1: same as v0 (throttle on quota violation)
* v2: flexible versions
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import cluster_denied
from fjord.security.acls import Op


@api(34, "AlterReplicaLogDirs", 1, 2)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    known = {str(path.resolve()): path for path in broker.config.log_dirs}
    results: dict[str, list[dict[str, Any]]] = {}
    denied = cluster_denied(ctx, Op.ALTER)
    for target in request.dirs:
        directory = known.get(str(Path(target.path).resolve()))
        for topic in target.topics:
            for partition in topic.partitions:
                code = ErrorCode.none
                if denied:
                    code = ErrorCode.cluster_authorization_failed
                elif directory is None:
                    code = ErrorCode.log_dir_not_found
                elif broker.partition(topic.name, partition) is None:
                    code = ErrorCode.unknown_topic_or_partition
                else:
                    try:
                        broker.logs.move(topic.name, partition, directory)
                    except OSError:
                        code = ErrorCode.kafka_storage_error
                results.setdefault(topic.name, []).append(
                    {"partition_index": partition, "error_code": code})
    return {"results": [{"topic_name": name, "partitions": parts} for name, parts in results.items()]}
