"""Fetch (1): byte ranges of the log, long-polled until min.bytes or max.wait.

Versions: v4-v17

Version notes:
* v0-v3: removed by KIP-896 - not served
* v5: log_start_offset in request and response
* v7: incremental fetch sessions (KIP-227) - not implemented: answered sessionless
* v9: current_leader_epoch (fencing; one node has one epoch)
* v11: rack_id (KIP-392) - no preferred read replica is ever returned
* v12: flexible versions; last_fetched_epoch, diverging_epoch (never diverges on one node)
* v13: topics by topic_id
* v15: replica_state instead of replica_id (consumers only: replica fetching is not served)
* v16: node_endpoints in the response
* v17: replica_directory_id (ignored)

Answers sessionless (session id 0), which every client accepts as "send full fetches".
The first batch is returned whole even past the size limits (KIP-74) so a consumer can
always make progress; otherwise responses stop at batch boundaries.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import denied_topics
from fjord.broker.state import BrokerState
from fjord.security.acls import Op
from fjord.security.quotas import CONSUMER
from fjord.storage.log import OffsetOutOfRange, PartitionLog
from fjord.storage.remote.storage_manager import RemoteStorageError

READ_COMMITTED = 1
log = logging.getLogger("fjord.broker")


@dataclass
class _RemoteFetch:
    """A partition whose fetch offset is below the local log start: read from the remote
    tier after the local reads, all such partitions concurrently (off the event loop)."""

    entry: dict[str, Any]
    plog: PartitionLog
    offset: int
    limit: int
    whole_first: bool


def _names(broker: BrokerState, request: Any) -> list[str]:
    return [name for name, _ in (_resolve(broker, topic) for topic in request.topics) if name is not None]


def _resolve(broker: BrokerState, topic: Any) -> tuple[str | None, Any]:
    name = getattr(topic, "topic", None)
    if name is not None:
        return name, None
    info = broker.metadata.by_id(topic.topic_id)
    return (info.name if info else None), topic.topic_id


def _collect(broker: BrokerState, request: Any, committed: bool, denied: frozenset[str] = frozenset()
             ) -> tuple[list[dict[str, Any]], int, list[PartitionLog], list[_RemoteFetch]]:
    # The client's limit, capped by the broker's own (fetch.max.bytes, as in Kafka).
    budget = min(getattr(request, "max_bytes", 2**31 - 1), int(broker.config.get("fetch.max.bytes")))
    total = 0
    logs: list[PartitionLog] = []
    remote: list[_RemoteFetch] = []
    responses = []
    for topic in request.topics:
        name, topic_id = _resolve(broker, topic)
        partitions = []
        for part in topic.partitions:
            entry: dict[str, Any] = {
                "partition_index": part.partition, "error_code": 0, "high_watermark": -1,
                "last_stable_offset": -1, "log_start_offset": -1, "preferred_read_replica": -1,
                "aborted_transactions": [] if committed else None, "records": b"",
            }
            plog = broker.partition(name, part.partition) if name is not None else None
            if name in denied:
                entry["error_code"] = ErrorCode.topic_authorization_failed
                partitions.append(entry)
                continue
            if plog is None:
                entry["error_code"] = (ErrorCode.unknown_topic_id if name is None
                                       else ErrorCode.unknown_topic_or_partition)
                partitions.append(entry)
                continue
            logs.append(plog)
            limit = min(part.partition_max_bytes, budget - total)
            stable = plog.last_stable_offset
            try:
                if limit > 0 or total == 0:
                    result = plog.read(part.fetch_offset, max(limit, 0), whole_first=total == 0,
                                       max_offset=stable if committed else None)
                    entry["records"] = result.data
                    total += len(result.data)
                    if committed and result.data:
                        entry["aborted_transactions"] = [
                            {"producer_id": pid, "first_offset": first}
                            for pid, first in plog.aborted_transactions(part.fetch_offset, stable)
                        ]
            except OffsetOutOfRange:
                if broker.remote is not None and broker.remote.readable(plog, part.fetch_offset):
                    remote.append(_RemoteFetch(entry, plog, part.fetch_offset, max(limit, 0),
                                               total == 0))
                    total += max(limit, 0)  # charged up front: the budget is never exceeded
                else:
                    entry["error_code"] = ErrorCode.offset_out_of_range
            entry["high_watermark"] = plog.high_watermark
            entry["last_stable_offset"] = stable
            entry["log_start_offset"] = broker.log_start_offset(plog)
            partitions.append(entry)
        item: dict[str, Any] = {"topic": name or "", "partitions": partitions}
        if topic_id is not None:
            item["topic_id"] = topic_id
        responses.append(item)
    return responses, total, logs, remote


async def _read_remote(broker: BrokerState, fetch: _RemoteFetch, committed: bool) -> None:
    """Fill a partition's entry from the remote tier; a failure is that partition's
    KAFKA_STORAGE_ERROR only."""
    assert broker.remote is not None
    plog, entry = fetch.plog, fetch.entry
    stable = plog.last_stable_offset
    try:
        result = await broker.remote.read(plog, fetch.offset, fetch.limit,
                                          stable if committed else plog.high_watermark,
                                          fetch.whole_first)
    except RemoteStorageError:
        entry["error_code"] = ErrorCode.kafka_storage_error
        return
    except Exception:
        log.exception("remote read of %s-%d failed", plog.topic, plog.partition)
        entry["error_code"] = ErrorCode.kafka_storage_error
        return
    if result is None:  # nothing remote at or after the offset: continue at the local start
        try:
            local = plog.read(plog.log_start_offset, fetch.limit, whole_first=fetch.whole_first,
                              max_offset=stable if committed else None)
        except OffsetOutOfRange:
            entry["error_code"] = ErrorCode.offset_out_of_range
            return
        entry["records"] = local.data
        if committed and local.data:
            entry["aborted_transactions"] = [
                {"producer_id": pid, "first_offset": first}
                for pid, first in plog.aborted_transactions(plog.log_start_offset, stable)]
        return
    entry["records"] = result.data
    if committed and result.data:
        entry["aborted_transactions"] = [{"producer_id": pid, "first_offset": first}
                                         for pid, first in result.aborted]


@api(1, "Fetch", 4, 17)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    committed = getattr(request, "isolation_level", 0) == READ_COMMITTED
    wait = request.max_wait.total_seconds()
    deadline = time.monotonic() + max(wait, 0.0)
    denied = denied_topics(ctx, Op.READ, _names(broker, request)) if broker.authorizer else frozenset()
    while True:
        responses, total, logs, remote = _collect(broker, request, committed, denied)
        errors = any(
            p["error_code"] != 0 for t in responses for p in t["partitions"]
        )
        remaining = deadline - time.monotonic()
        if remote:
            await asyncio.gather(*(_read_remote(broker, fetch, committed) for fetch in remote))
            break
        if (total >= max(request.min_bytes, 1) or errors or remaining <= 0 or not logs
                or broker.stopping):
            break
        waiters = [plog.waiter() for plog in logs] + [broker.stop_waiter()]
        try:
            await asyncio.wait(waiters, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
    for topic_response in responses:
        for part in topic_response["partitions"]:
            broker.metrics.fetched(topic_response["topic"], len(part["records"]), part["error_code"] == 0)
    throttle = ctx.record_quota(CONSUMER, total) if broker.quotas.active else 0
    return {"error_code": 0, "session_id": 0, "responses": responses, "throttle_time": throttle}
