"""A fenced producer gets the error code its request version can decode (KIP-588):
PRODUCER_FENCED only from InitProducerId v4, AddPartitionsToTxn/AddOffsetsToTxn/EndTxn v2;
older versions, and TxnOffsetCommit always, get INVALID_PRODUCER_EPOCH as from Kafka."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from fjord.broker.error_versions import for_version
from tests.coordinator.wire import Wire
from tests.support.broker import BrokerProcess

INVALID_PRODUCER_EPOCH, PRODUCER_FENCED = 47, 90


def test_table_maps_only_what_is_too_new() -> None:
    assert for_version(24, 0, PRODUCER_FENCED) == INVALID_PRODUCER_EPOCH
    assert for_version(24, 2, PRODUCER_FENCED) == PRODUCER_FENCED
    assert for_version(22, 3, PRODUCER_FENCED) == INVALID_PRODUCER_EPOCH
    assert for_version(22, 4, PRODUCER_FENCED) == PRODUCER_FENCED
    assert for_version(28, 4, PRODUCER_FENCED) == INVALID_PRODUCER_EPOCH
    assert for_version(24, 0, 3) == 3
    assert for_version(3, 0, PRODUCER_FENCED) == PRODUCER_FENCED  # APIs without a rule


def test_fenced_producer_gets_codes_by_request_version(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("fenced", 1, 1)])["fenced"].result(15)
    wire = Wire(broker.bootstrap)
    init = {"transactional_id": "tx-fenced", "transaction_timeout": 30000,
            "producer_id": -1, "producer_epoch": -1}
    first = wire.call(22, 3, init)
    assert first.error_code.value == 0
    second = wire.call(22, 3, init)  # a new incarnation: the first one's epoch is fenced
    assert second.producer_epoch == first.producer_epoch + 1
    pid, stale = first.producer_id, first.producer_epoch

    def add_partitions(version: int) -> int:
        response = wire.call(24, version, {
            "v3_and_below_transactional_id": "tx-fenced", "v3_and_below_producer_id": pid,
            "v3_and_below_producer_epoch": stale,
            "v3_and_below_topics": [{"name": "fenced", "partitions": [0]}]})
        return int(response.results_by_topic_v3_and_below[0].results_by_partition[0]
                   .partition_error_code.value)

    def add_offsets(version: int) -> int:
        return int(wire.call(25, version, {"transactional_id": "tx-fenced", "producer_id": pid,
                                           "producer_epoch": stale, "group_id": "g"})
                   .error_code.value)

    def end_txn(version: int) -> int:
        return int(wire.call(26, version, {"transactional_id": "tx-fenced", "producer_id": pid,
                                           "producer_epoch": stale, "committed": True})
                   .error_code.value)

    def init_again(version: int) -> int:
        return int(wire.call(22, version, {**init, "producer_id": pid, "producer_epoch": stale})
                   .error_code.value)

    assert [add_partitions(v) for v in range(4)] == [47, 47, 90, 90]
    assert [add_offsets(v) for v in range(5)] == [47, 47, 90, 90, 90]
    assert [end_txn(v) for v in range(5)] == [47, 47, 90, 90, 90]
    assert [init_again(v) for v in (3, 4, 5)] == [47, 90, 90]
    wire.close()
