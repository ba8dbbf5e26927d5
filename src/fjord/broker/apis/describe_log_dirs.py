"""DescribeLogDirs (35): partition sizes per log directory, with total and usable bytes.

Versions: v1-v4

Version notes:
* v0: removed by KIP-896 - not served
* v2: flexible versions
* v3: top-level error_code
* v4: total_bytes and usable_bytes of each log dir
"""

from __future__ import annotations

import os
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import cluster_denied
from fjord.security.acls import Op


@api(35, "DescribeLogDirs", 1, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    if cluster_denied(ctx, Op.DESCRIBE):
        return {"error_code": ErrorCode.cluster_authorization_failed, "results": []}
    wanted: dict[str, set[int]] | None = None
    if request.topics is not None:
        wanted = {t.topic: set(t.partitions) for t in request.topics}
    results = []
    for directory in broker.config.log_dirs:
        topics: dict[str, list[dict[str, Any]]] = {}
        for (topic, partition), plog in sorted(broker.logs.logs.items()):
            if plog.directory.parent != directory:
                continue
            if wanted is not None and partition not in wanted.get(topic, set()):
                continue
            topics.setdefault(topic, []).append({
                "partition_index": partition, "partition_size": plog.size,
                "offset_lag": 0, "is_future_key": False,
            })
        stat = os.statvfs(directory)
        results.append({
            "error_code": 0, "log_dir": str(directory),
            "topics": [{"name": name, "partitions": parts} for name, parts in topics.items()],
            "total_bytes": stat.f_blocks * stat.f_frsize,
            "usable_bytes": stat.f_bavail * stat.f_frsize,
        })
    return {"error_code": 0, "results": results}
