"""Produce (0): validate batches, check producer sequences, append, answer.

Versions: v3-v11 (advertised from v0 for librdkafka, KAFKA-18659)

Version notes:
* v0-v2: removed by KIP-896 - refused (advertised only)
* v3: transactional_id; record batch v2 only (KIP-724)
* v4: same as v3 (KafkaStorageException)
* v5: log_start_offset in the response
* v6-v7: same as v5 (v7: ZStandard batches)
* v8: record_errors and error_message (KIP-467)
* v9: flexible versions
* v10: current_leader and node_endpoints in NOT_LEADER answers (never sent: one leader)
* v11: same as v10 (KIP-890 verification is not needed on one node)
* v12 (topics by id) - not served

Served from v3 (record batch v2 only, KIP-724/KIP-896) but advertised from v0 because
librdkafka refuses a broker whose Produce range does not start at 0 (KAFKA-18659).
acks=0 gets no response; acks=1 and acks=all mean the same on one node: the batch is in
the log. Whether it is also on disk is the flush policy's call (docs/durability.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import produce_denial
from fjord.protocol.records import (
    TARGET_CODECS,
    BatchHeader,
    CorruptBatch,
    UnsupportedMagic,
    iter_records,
    recompress,
    split_batches,
)
from fjord.security.acls import Op, ResourceType
from fjord.security.quotas import PRODUCER
from fjord.storage.log import LONG_MAX, PartitionLog
from fjord.storage.producer_state import DuplicateSequence, OutOfOrderSequence, ProducerFenced

log = logging.getLogger("fjord.broker.produce")


def _result(index: int, code: ErrorCode, base: int = -1, start: int = -1,
            message: str | None = None, append_time: int = -1,
            record_errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"index": index, "error_code": code, "base_offset": base, "log_append_time": append_time,
            "log_start_offset": start, "record_errors": record_errors or [],
            "error_message": message}


def _record_errors(plog: PartitionLog, records: bytes, headers: list[BatchHeader],
                   now_ms: int) -> dict[str, Any] | None:
    """Kafka's per-record validation (LogValidator): a keyless record on a compacted topic,
    a CreateTime timestamp outside message.timestamp.before/after.max.ms. The whole batch is
    refused, naming each bad record by its index (KIP-467), so clients fail exactly those.

    Records are decoded only when a check needs them: keys on compacted topics, timestamps
    when the header's max timestamp is out of range or a lower bound is set.
    """
    config = plog.config
    check_time = not config.log_append_time
    lower = now_ms - config.timestamp_before_max_ms if config.timestamp_before_max_ms < LONG_MAX else None
    upper = now_ms + config.timestamp_after_max_ms if config.timestamp_after_max_ms < LONG_MAX else None
    errors: list[dict[str, Any]] = []
    bad_time = False
    pos = 0
    index = 0
    for header in headers:
        need_time = check_time and (lower is not None
                                    or (upper is not None and header.max_timestamp > upper))
        if config.compact or need_time:
            for number, record in enumerate(iter_records(records, pos), start=index):
                if need_time and ((lower is not None and record.timestamp < lower)
                                  or (upper is not None and record.timestamp > upper)):
                    bad_time = True
                    errors.append({"batch_index": number, "batch_index_error_message": (
                        f"Timestamp {record.timestamp} of message with offset {number} is out of "
                        f"range. The timestamp should be within [{'-inf' if lower is None else lower}"
                        f", {'+inf' if upper is None else upper}]")})
                elif config.compact and record.key is None:
                    errors.append({"batch_index": number, "batch_index_error_message": (
                        f"Compacted topic cannot accept message without key in topic partition "
                        f"{plog.topic}-{plog.partition}.")})
        index += header.count
        pos += header.length
    if not errors:
        return None
    if bad_time:
        return _result(0, ErrorCode.invalid_timestamp, record_errors=errors,
                       message="One or more records have been rejected due to invalid timestamp")
    return _result(0, ErrorCode.invalid_record, record_errors=errors, message=(
        f"One or more records have been rejected due to {len(errors)} record errors in total: "
        + "; ".join(e["batch_index_error_message"] for e in errors[:3])))


def _recompressed(plog: PartitionLog, records: bytes,
                  headers: list[BatchHeader]) -> tuple[bytes, list[BatchHeader]]:
    """compression.type other than `producer`: batches in another codec are rewritten in
    the topic's, as Kafka does; batches already in it are stored as sent."""
    target = TARGET_CODECS.get(plog.config.compression)
    if target is None or all(h.compression == target for h in headers):
        return records, headers
    pieces = []
    pos = 0
    for header in headers:
        if header.compression == target:
            pieces.append(records[pos : pos + header.length])
        else:
            pieces.append(recompress(records, pos, header, target))
        pos += header.length
    data = b"".join(pieces)
    return data, split_batches(data)


def append_partition(plog: PartitionLog, index: int, records: bytes | None,
                     now_ms: int) -> dict[str, Any]:
    if not records:
        return _result(index, ErrorCode.corrupt_message, message="no records")
    try:
        headers = split_batches(records)
    except UnsupportedMagic as exc:
        return _result(index, ErrorCode.unsupported_for_message_format, message=str(exc))
    except CorruptBatch as exc:
        log.warning("rejected produce to %s-%d: %s", plog.topic, index, exc)
        return _result(index, ErrorCode.corrupt_message, message=str(exc))
    for header in headers:
        if header.length > plog.config.max_message_bytes:
            return _result(index, ErrorCode.message_too_large,
                           message=f"batch of {header.length} bytes exceeds max.message.bytes="
                                   f"{plog.config.max_message_bytes}")
        if header.is_control:  # markers are the coordinator's to write (Kafka's LogValidator)
            return _result(index, ErrorCode.invalid_record,
                           message="Clients are not allowed to write control records")
    try:
        refused = _record_errors(plog, records, headers, now_ms)
        if refused is not None:
            refused["index"] = index
            return refused
        records, headers = _recompressed(plog, records, headers)
    except (CorruptBatch, IndexError, ValueError) as exc:  # records that do not decode
        log.warning("rejected produce to %s-%d: %s", plog.topic, index, exc)
        return _result(index, ErrorCode.corrupt_message, message=f"records do not decode: {exc}")
    try:
        plog.producers.check_all(headers)
    except DuplicateSequence as dup:
        return _result(index, ErrorCode.none, dup.base_offset, plog.log_start_offset)
    except OutOfOrderSequence as exc:
        return _result(index, ErrorCode.out_of_order_sequence_number, message=str(exc))
    except ProducerFenced as exc:
        return _result(index, ErrorCode.invalid_producer_epoch, message=str(exc))
    try:
        base, append_time = plog.append(records, headers, now_ms)
    except OSError as exc:
        log.error("cannot write %s-%d: %s", plog.topic, index, exc)
        return _result(index, ErrorCode.kafka_storage_error, message=f"log write failed: {exc}")
    return _result(index, ErrorCode.none, base, plog.log_start_offset, append_time=append_time)


@api(0, "Produce", 3, 11, advertised_min=0)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any] | None:
    broker = ctx.broker
    now_ms = int(time.time() * 1000)
    to_flush: list[PartitionLog] = []
    responses = []
    if broker.authorizer is not None:
        denial = produce_denial(ctx, request)
        if denial is not None:
            return denial
    for topic in request.topic_data:
        partitions = []
        denied = broker.authorizer is not None and not ctx.allowed(Op.WRITE, ResourceType.TOPIC, topic.name)
        for data in topic.partition_data:
            if denied:
                partitions.append(_result(data.index, ErrorCode.topic_authorization_failed))
                continue
            plog = broker.partition(topic.name, data.index)
            if plog is None:
                partitions.append(_result(data.index, ErrorCode.unknown_topic_or_partition))
                continue
            info = broker.metadata.topics.get(topic.name)
            if info is not None and info.internal:
                partitions.append(_result(data.index, ErrorCode.invalid_topic_exception,
                                          message=f"Cannot append to internal topic {topic.name}"))
                continue
            before = plog.log_end_offset
            result = append_partition(plog, data.index, data.records, now_ms)
            partitions.append(result)
            appended = plog.log_end_offset - before
            broker.metrics.produced(topic.name, appended, len(data.records or b"") if appended else 0,
                                    result["error_code"] == ErrorCode.none)
            if plog.needs_flush():
                to_flush.append(plog)
        responses.append({"name": topic.name, "partition_responses": partitions})
    if to_flush:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(*(loop.run_in_executor(None, p.flush_handle()) for p in to_flush))
        except OSError as exc:
            log.error("fsync failed: %s", exc)
            for topic_response in responses:
                for item in topic_response["partition_responses"]:
                    if item["error_code"] == ErrorCode.none:
                        item["error_code"] = ErrorCode.kafka_storage_error
    throttle = 0
    if broker.quotas.active:
        size = sum(len(d.records or b"") for t in request.topic_data for d in t.partition_data)
        throttle = ctx.record_quota(PRODUCER, size)
    if request.acks == 0:
        return None
    return {"responses": responses, "throttle_time": throttle}
