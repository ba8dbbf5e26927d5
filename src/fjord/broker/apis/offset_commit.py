"""OffsetCommit (8): committed offsets go to `__consumer_offsets` before they are acknowledged.

Versions: v2-v10

Version notes:
* v0-v1: removed by KIP-896 - not served
* v3: throttle_time_ms
* v4: same as v3
* v5: retention_time dropped (offsets.retention.minutes applies)
* v6: committed_leader_epoch
* v7: group_instance_id (KIP-345)
* v8: flexible versions
* v9: member epoch for KIP-848 groups
* v10: topics by topic_id

Served from v2 (KIP-896 dropped v0-1); v10 names topics by id. A commit with generation -1
and no member id is the "simple" commit of an assign()-mode consumer or an admin tool,
accepted while the group has no active members, as Kafka does.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.broker.security import denied_topics, group_denied
from fjord.coordinator.groups import GroupError
from fjord.coordinator.offsets import CommittedOffset
from fjord.security.acls import Op

log = logging.getLogger("fjord.coordinator")


@api(8, "OffsetCommit", 2, 10)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    groups = coordinator(ctx)
    broker = ctx.broker
    group_error = ErrorCode.none
    denied: frozenset[str] = frozenset()
    if broker.authorizer is not None:
        if group_denied(ctx, Op.READ, request.group_id):
            group_error = ErrorCode.group_authorization_failed
        denied = denied_topics(ctx, Op.READ, [t.name for t in request.topics if getattr(t, "name", None)])
    try:
        groups.validate_commit(request.group_id, request.generation_id_or_member_epoch,
                               request.member_id, getattr(request, "group_instance_id", None),
                               ctx.api_version)
    except GroupError as exc:
        group_error = group_error or exc.code
    now = int(time.time() * 1000)
    entries: dict[tuple[str, int], CommittedOffset] = {}
    answers: list[tuple[dict[str, Any], list[tuple[dict[str, Any], tuple[str, int] | None]]]] = []
    for topic in request.topics:
        name = getattr(topic, "name", None)
        topic_id = getattr(topic, "topic_id", None)
        if name is not None:
            info = broker.metadata.topics.get(name)
        else:
            info = broker.metadata.by_id(topic_id) if topic_id is not None else None
        item: dict[str, Any] = {"name": name or (info.name if info else ""), "topic_id": topic_id}
        rows: list[tuple[dict[str, Any], tuple[str, int] | None]] = []
        for part in topic.partitions:
            row: dict[str, Any] = {"partition_index": part.partition_index, "error_code": group_error}
            key = None
            if group_error == ErrorCode.none:
                metadata = part.committed_metadata or ""
                if name in denied:
                    row["error_code"] = ErrorCode.topic_authorization_failed
                elif info is None or not 0 <= part.partition_index < info.partitions:
                    row["error_code"] = (ErrorCode.unknown_topic_id if name is None
                                         else ErrorCode.unknown_topic_or_partition)
                elif len(metadata.encode()) > groups.metadata_max:
                    row["error_code"] = ErrorCode.offset_metadata_too_large
                else:
                    key = (info.name, part.partition_index)
                    entries[key] = CommittedOffset(
                        part.committed_offset, getattr(part, "committed_leader_epoch", -1),
                        metadata, now)
            rows.append((row, key))
        answers.append((item, rows))
    if entries:
        try:
            plog = groups.commit(request.group_id, entries)
            if plog.needs_flush():
                await asyncio.get_running_loop().run_in_executor(None, plog.flush_handle())
        except OSError as exc:
            log.error("group %s: offset commit failed: %s", request.group_id, exc)
            for _item, rows in answers:
                for row, key in rows:
                    if key is not None:
                        row["error_code"] = ErrorCode.coordinator_not_available
    return {"topics": [{**item, "partitions": [row for row, _ in rows]} for item, rows in answers]}
