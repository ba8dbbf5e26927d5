"""The admin and tooling APIs check what Kafka's KafkaApis checks: a principal without ACLs
is refused with Kafka's code, a super user is served. Raw frames, so each API is named exactly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kio.schema.errors import ErrorCode

from tests.security.support import ADMIN, ADMIN_PASSWORD, SecureBroker, Tls
from tests.support.raw_client import RawClient

HANDSHAKE, AUTHENTICATE = 17, 36
WRITE_TXN_MARKERS, DESCRIBE_LOG_DIRS, ELECT_LEADERS = 27, 35, 43
LIST_REASSIGNMENTS, DESCRIBE_PRODUCERS, DESCRIBE_TRANSACTIONS, LIST_TRANSACTIONS = 46, 61, 65, 66
DESCRIBE_TOPIC_PARTITIONS = 75


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[SecureBroker]:
    proc = SecureBroker(tmp_path_factory.mktemp("admin-apis") / "data", tls, {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}", "auto.create.topics.enable": "false"}).start()
    yield proc
    proc.stop()


def anonymous(broker: SecureBroker) -> RawClient:
    """The PLAINTEXT listener's principal is User:ANONYMOUS, which has no ACLs."""
    return RawClient(broker.ports["PLAINTEXT"])


def admin(broker: SecureBroker) -> RawClient:
    client = RawClient(broker.ports["SASL_PLAINTEXT"])
    assert client.call(HANDSHAKE, 1, {"mechanism": "PLAIN"}).error_code == ErrorCode.none
    token = b"\0" + ADMIN.encode() + b"\0" + ADMIN_PASSWORD.encode()
    assert client.call(AUTHENTICATE, 2, {"auth_bytes": token}).error_code == ErrorCode.none
    return client


def cluster_answers(client: RawClient) -> dict[str, ErrorCode]:
    return {
        "DescribeLogDirs": client.call(DESCRIBE_LOG_DIRS, 4, {"topics": None}).error_code,
        "ElectLeaders": client.call(ELECT_LEADERS, 2, {
            "election_type": 0, "topic_partitions": None, "timeout": 5000}).error_code,
        "ListPartitionReassignments": client.call(LIST_REASSIGNMENTS, 0, {
            "timeout": 5000, "topics": None}).error_code,
    }


def test_cluster_apis_refuse_a_principal_without_acls(broker: SecureBroker) -> None:
    client = anonymous(broker)
    assert cluster_answers(client) == dict.fromkeys(
        ("DescribeLogDirs", "ElectLeaders", "ListPartitionReassignments"),
        ErrorCode.cluster_authorization_failed)
    markers = client.call(WRITE_TXN_MARKERS, 1, {"markers": [{
        "producer_id": 1, "producer_epoch": 0, "transaction_result": False, "coordinator_epoch": 0,
        "topics": [{"name": "t", "partition_indexes": [0]}]}]})
    assert markers.markers[0].topics[0].partitions[0].error_code == ErrorCode.cluster_authorization_failed


def test_super_user_is_served(broker: SecureBroker) -> None:
    answers = cluster_answers(admin(broker))
    assert answers == {"DescribeLogDirs": ErrorCode.none, "ElectLeaders": ErrorCode.none,
                       "ListPartitionReassignments": ErrorCode.none}


def test_topic_and_transaction_apis_hide_what_the_principal_cannot_describe(broker: SecureBroker) -> None:
    client = anonymous(broker)
    topics = client.call(DESCRIBE_TOPIC_PARTITIONS, 0, {
        "topics": [{"name": "secret"}], "response_partition_limit": 100, "cursor": None}).topics
    assert [(t.name, t.error_code) for t in topics] == [("secret", ErrorCode.topic_authorization_failed)]
    producers = client.call(DESCRIBE_PRODUCERS, 0, {
        "topics": [{"name": "secret", "partition_indexes": [0]}]}).topics
    assert producers[0].partitions[0].error_code == ErrorCode.topic_authorization_failed
    states = client.call(DESCRIBE_TRANSACTIONS, 0, {"transactional_ids": ["txn-1"]}).transaction_states
    assert states[0].error_code == ErrorCode.transactional_id_authorization_failed
    listed = client.call(LIST_TRANSACTIONS, 0, {"state_filters": [], "producer_id_filters": []})
    assert listed.error_code == ErrorCode.none and list(listed.transaction_states) == []
