"""How much one admin request may create: Kafka's controller refuses a user operation that
would write more than 10,000 metadata records (QuorumController.MAX_RECORDS_PER_USER_OP).
Fjord counts the partitions one CreateTopics or CreatePartitions request adds: without a
bound, a 40-byte CreatePartitions frame asking for 12 million partitions (found by
bench/fuzz_broker.py) kept the broker busy creating directories, deaf to every client."""

from __future__ import annotations

from kio.schema.errors import ErrorCode

from fjord.broker.state import TopicError

MAX_PARTITIONS_PER_REQUEST = 10_000


class PartitionBudget:
    """The partitions left to one request; take() refuses a topic that would overdraw it."""

    def __init__(self, limit: int = MAX_PARTITIONS_PER_REQUEST) -> None:
        self.left = limit

    def take(self, new_partitions: int) -> None:
        if new_partitions > self.left:
            raise TopicError(ErrorCode.invalid_partitions, (
                f"Unable to create {new_partitions} partitions: one request may add at most "
                f"{MAX_PARTITIONS_PER_REQUEST} (Kafka's limit per controller operation); "
                f"split it into several requests"))
        self.left -= max(new_partitions, 0)
