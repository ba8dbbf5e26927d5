"""DescribeTransactions (65), ListTransactions (66) and DescribeProducers (61): what
kafka-transactions.sh shows — open transactions, their partitions, and the producers a
partition knows about (with the start of any transaction they hold open).

DescribeTransactions versions: v0-v0
ListTransactions versions: v0-v1
DescribeProducers versions: v0-v0

Version notes:
* DescribeTransactions v0 and DescribeProducers v0 (KIP-664): the only versions
* ListTransactions v1: duration_filter (KIP-994); v2 (transactional_id_pattern) is not served
"""

from __future__ import annotations

import time
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import topic_denied
from fjord.coordinator.transactions import Transaction, TxnState
from fjord.security.acls import Op, ResourceType

STATES = ("Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort",
          "Dead", "PrepareEpochFence")


def _topics(txn: Transaction) -> list[dict[str, Any]]:
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(txn.partitions):
        by_topic.setdefault(topic, []).append(partition)
    return [{"topic": topic, "partitions": parts} for topic, parts in by_topic.items()]


@api(65, "DescribeTransactions", 0, 0)
async def describe(ctx: RequestContext, request: Any) -> dict[str, Any]:
    txns = {t.transactional_id: t for t in ctx.broker.transactions.describe()}
    states = []
    for txn_id in request.transactional_ids:
        txn = txns.get(txn_id)
        if ctx.broker.authorizer is not None and not ctx.allowed(
                Op.DESCRIBE, ResourceType.TRANSACTIONAL_ID, txn_id):
            states.append({"error_code": ErrorCode.transactional_id_authorization_failed,
                           "transactional_id": txn_id, "transaction_state": "",
                           "transaction_timeout": 0, "transaction_start_time": 0,
                           "producer_id": -1, "producer_epoch": -1, "topics": []})
            continue
        if txn is None:
            states.append({"error_code": ErrorCode.transactional_id_not_found,
                           "transactional_id": txn_id, "transaction_state": "",
                           "transaction_timeout": 0, "transaction_start_time": 0,
                           "producer_id": -1, "producer_epoch": -1, "topics": []})
            continue
        states.append({"error_code": 0, "transactional_id": txn_id,
                       "transaction_state": txn.state, "transaction_timeout": txn.timeout_ms,
                       "transaction_start_time": txn.started_ms if txn.state == TxnState.ONGOING else -1,
                       "producer_id": txn.producer_id, "producer_epoch": txn.epoch,
                       "topics": _topics(txn)})
    return {"transaction_states": states}


@api(66, "ListTransactions", 0, 1)
async def list_(ctx: RequestContext, request: Any) -> dict[str, Any]:
    wanted_states = set(request.state_filters)
    wanted_pids = set(request.producer_id_filters)
    min_duration = getattr(request, "duration_filter", -1)
    now = int(time.time() * 1000)
    found = []
    for txn in ctx.broker.transactions.describe():
        if wanted_states and txn.state not in wanted_states:
            continue
        if wanted_pids and txn.producer_id not in wanted_pids:
            continue
        if min_duration >= 0 and (txn.state != TxnState.ONGOING or now - txn.started_ms < min_duration):
            continue
        if ctx.broker.authorizer is not None and not ctx.allowed(  # Kafka lists only describable ids
                Op.DESCRIBE, ResourceType.TRANSACTIONAL_ID, txn.transactional_id, log_denied=False):
            continue
        found.append({"transactional_id": txn.transactional_id, "producer_id": txn.producer_id,
                      "transaction_state": txn.state})
    return {"error_code": 0, "unknown_state_filters": sorted(wanted_states - set(STATES)),
            "transaction_states": found}


@api(61, "DescribeProducers", 0, 0)
async def producers(ctx: RequestContext, request: Any) -> dict[str, Any]:
    topics = []
    for topic in request.topics:
        partitions = []
        for index in topic.partition_indexes:
            plog = ctx.broker.partition(topic.name, index)
            denied = topic_denied(ctx, Op.READ, topic.name)  # Kafka: READ on the topic
            if denied or plog is None:
                code = (ErrorCode.topic_authorization_failed if denied
                        else ErrorCode.unknown_topic_or_partition)
                partitions.append({"partition_index": index,
                                   "error_code": code,
                                   "error_message": None, "active_producers": []})
                continue
            table = plog.producers
            active = [{"producer_id": pid, "producer_epoch": entry.epoch,
                       "last_sequence": entry.last_seq, "last_timestamp": entry.last_timestamp,
                       "coordinator_epoch": -1,
                       "current_txn_start_offset": table.ongoing.get(pid, -1)}
                      for pid, entry in table.producers.items()]
            partitions.append({"partition_index": index, "error_code": 0, "error_message": None,
                               "active_producers": active})
        topics.append({"name": topic.name, "partitions": partitions})
    return {"topics": topics}
