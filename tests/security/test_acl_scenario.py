"""The admin scenario of issue 10 with confluent-kafka's AdminClient: a super user creates a
SCRAM user and its ACLs; the user writes `a` and reads it with group `g`, is refused `b` and
group `h` with Kafka's codes and never sees `b`; all of it again after a restart; then the
user is deleted: new connections fail and a live one ends within connections.max.reauth.ms.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramMechanism,
    UserScramCredentialDeletion,
)

from tests.security.conftest import add_scram_user
from tests.security.support import ADMIN, ADMIN_PASSWORD, USER, SecureBroker, Tls
from tests.support import messages
from tests.support.wait import wait_until

REAUTH_MS = 4000


def user_conf(broker: SecureBroker, errors: list[KafkaError] | None = None) -> dict[str, Any]:
    conf: dict[str, Any] = broker.confluent("SASL_PLAINTEXT", "SCRAM-SHA-256")
    if errors is not None:
        conf["error_cb"] = errors.append
    return conf


def produce(conf: dict[str, Any], topic: str, value: bytes) -> KafkaError | None:
    outcome: list[KafkaError | None] = []
    producer = Producer({**conf, "message.timeout.ms": 10000})
    producer.produce(topic, value=value, on_delivery=lambda err, _msg: outcome.append(err))
    producer.flush(30)
    assert outcome, f"no delivery report for {topic}"
    return outcome[0]


def consume(conf: dict[str, Any], topic: str, group: str, want: int) -> tuple[list[bytes], list[KafkaError]]:
    consumer = Consumer({**conf, "group.id": group, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values: list[bytes] = []
    errors: list[KafkaError] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(values) < want and not errors:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            if error is not None:
                errors.append(error)
            else:
                values.append(messages.value(message))
    finally:
        consumer.close()
    return values, errors


def check_user(broker: SecureBroker) -> None:
    """Group g resumes after its committed offset, so each round reads just its new record."""
    conf = user_conf(broker)
    marker = uuid.uuid4().hex.encode()
    assert produce(conf, "a", marker) is None
    refused = produce(conf, "b", b"nope")
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, refused
    values, errors = consume(conf, "a", "g", 1)
    assert not errors and values == [marker]
    _, errors = consume(conf, "a", "h", 1)
    assert errors and errors[0].code() == KafkaError.GROUP_AUTHORIZATION_FAILED, errors
    transactional = Producer({**conf, "transactional.id": "t-alice"})
    with pytest.raises(KafkaException) as refused_txn:
        transactional.init_transactions(15)
    assert refused_txn.value.args[0].code() == KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    topics = AdminClient(conf).list_topics(timeout=10).topics
    assert "a" in topics and "b" not in topics
    admin_topics = AdminClient(broker.confluent("SASL_PLAINTEXT", "PLAIN", ADMIN, ADMIN_PASSWORD)
                               ).list_topics(timeout=10).topics
    assert {"a", "b"} <= set(admin_topics)


def test_admin_creates_user_and_acls(tmp_path: Path, tls: Tls) -> None:
    broker = SecureBroker(tmp_path / "data", tls, {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "connections.max.reauth.ms": str(REAUTH_MS),
    }).start()
    try:
        admin = AdminClient(broker.confluent("SASL_PLAINTEXT", "PLAIN", ADMIN, ADMIN_PASSWORD))
        add_scram_user(broker)
        for future in admin.create_topics([NewTopic("a", 1, 1), NewTopic("b", 1, 1)]).values():
            future.result(timeout=30)
        principal = f"User:{USER}"
        acls = [
            AclBinding(ResourceType.TOPIC, "a", ResourcePatternType.LITERAL, principal, "*",
                       AclOperation.WRITE, AclPermissionType.ALLOW),
            AclBinding(ResourceType.TOPIC, "a", ResourcePatternType.LITERAL, principal, "*",
                       AclOperation.READ, AclPermissionType.ALLOW),
            AclBinding(ResourceType.GROUP, "g", ResourcePatternType.LITERAL, principal, "*",
                       AclOperation.READ, AclPermissionType.ALLOW),
        ]
        for future in admin.create_acls(acls).values():
            future.result(timeout=30)
        # None matches any name, principal and host; confluent-kafka's stubs say str only.
        match_all = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,  # type: ignore[arg-type]
                                     None, None,  # type: ignore[arg-type]
                                     AclOperation.ANY, AclPermissionType.ANY)
        described = admin.describe_acls(match_all).result(timeout=30)
        assert set(described) == set(acls)

        check_user(broker)
        broker.restart()
        check_user(broker)
        assert "is Denied operation = DESCRIBE from host = 127.0.0.1 on resource = Topic:LITERAL:b" in (
            broker.log_path.read_text())  # the audit line

        live_errors: list[KafkaError] = []
        live = Producer(user_conf(broker, live_errors))
        assert live.list_topics("a", timeout=10).topics["a"].error is None  # connected, authenticated
        result = admin.alter_user_scram_credentials(
            [UserScramCredentialDeletion(USER, ScramMechanism.SCRAM_SHA_256),
             UserScramCredentialDeletion(USER, ScramMechanism.SCRAM_SHA_512)])
        for future in result.values():
            future.result(timeout=30)

        fresh_errors: list[KafkaError] = []
        fresh = Producer(user_conf(broker, fresh_errors))
        wait_until(lambda: (fresh.poll(0.2) is not None and False) or fresh_errors, timeout=30,
                   message="a new connection of the deleted user to fail")
        assert fresh_errors[0].code() == KafkaError._AUTHENTICATION

        started = time.monotonic()

        def live_ended() -> bool:
            """librdkafka re-authenticates before the session ends (and fails: _AUTHENTICATION),
            or, if it had not yet, the broker closes the connection at its next request."""
            live.poll(0.2)
            with contextlib.suppress(KafkaException):
                live.list_topics(timeout=0.5)
            closed = "SASL session of User:alice expired" in broker.log_path.read_text()
            return closed or any(e.code() == KafkaError._AUTHENTICATION for e in live_errors)

        wait_until(live_ended, timeout=REAUTH_MS / 1000 + 20, message="the live connection to end")
        assert time.monotonic() - started < REAUTH_MS / 1000 + 20

    finally:
        broker.stop()
