"""OAUTHBEARER: unsecured tokens (Kafka's default validator) on SASL_PLAINTEXT, tokens signed
by a key in a JWKS file (sasl.oauthbearer.jwks.endpoint.url) on SASL_SSL; expired, unsigned
and foreign-key tokens are refused with SASL_AUTHENTICATION_FAILED and the connection closes."""

from __future__ import annotations

import base64
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kio.schema.errors import ErrorCode

from tests.security.support import SecureBroker, Tls
from tests.support import messages
from tests.support.raw_client import RawClient

HANDSHAKE, AUTHENTICATE = 17, 36


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def token(claims: dict[str, Any], key: rsa.RSAPrivateKey | None, kid: str = "k1") -> str:
    header = {"alg": "RS256", "kid": kid} if key else {"alg": "none"}
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256()) if key else b""
    return f"{signing}.{b64(signature)}"


def claims(sub: str = "alice", lifetime: int = 300) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": sub, "iat": now, "exp": now + lifetime, "aud": "fjord", "iss": "tests"}


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, tls: Tls,
           signing_key: rsa.RSAPrivateKey) -> Iterator[SecureBroker]:
    directory = tmp_path_factory.mktemp("oauth")
    numbers = signing_key.public_key().public_numbers()
    jwks = {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
                      "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                      "e": b64(numbers.e.to_bytes(3, "big"))}]}
    (directory / "jwks.json").write_text(json.dumps(jwks))
    proc = SecureBroker(directory / "data", tls, {
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        "listener.name.sasl_ssl.sasl.oauthbearer.jwks.endpoint.url": f"file://{directory / 'jwks.json'}",
        "listener.name.sasl_ssl.sasl.oauthbearer.expected.audience": "fjord",
        "listener.name.sasl_ssl.sasl.oauthbearer.expected.issuer": "tests",
    }).start()
    yield proc
    proc.stop()


def round_trip(conf: dict[str, Any]) -> list[bytes]:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    producer = Producer(conf)
    for i in range(3):
        producer.produce(topic, b"v%d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer({**conf, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    while len(values) < 3 and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(messages.value(message))
    consumer.close()
    return values


def test_unsecured_token(broker: SecureBroker) -> None:
    conf = {"bootstrap.servers": broker.address("SASL_PLAINTEXT"), "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "OAUTHBEARER", "enable.sasl.oauthbearer.unsecure.jwt": True,
            "sasl.oauthbearer.config": "principal=alice"}
    assert round_trip(conf) == [b"v0", b"v1", b"v2"]


def test_signed_token_from_jwks(broker: SecureBroker, signing_key: rsa.RSAPrivateKey) -> None:
    def oauth_cb(_config: str) -> tuple[str, float]:
        return token(claims(), signing_key), time.time() + 300

    conf = {**broker.confluent("SASL_SSL"), "sasl.mechanism": "OAUTHBEARER", "oauth_cb": oauth_cb}
    assert round_trip(conf) == [b"v0", b"v1", b"v2"]


def refused(broker: SecureBroker, bearer: str) -> str:
    context = ssl.create_default_context(cafile=str(broker.tls.ca_file))
    client = RawClient(broker.ports["SASL_SSL"], context)
    assert client.call(HANDSHAKE, 1, {"mechanism": "OAUTHBEARER"}).error_code == ErrorCode.none
    answer = client.call(AUTHENTICATE, 2, {"auth_bytes": f"n,,\x01auth=Bearer {bearer}\x01\x01".encode()})
    assert answer.error_code == ErrorCode.sasl_authentication_failed
    assert client.closed_by_broker()
    return str(answer.error_message)


def test_bad_tokens_are_refused(broker: SecureBroker, signing_key: rsa.RSAPrivateKey) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "expired" in refused(broker, token(claims(lifetime=-120), signing_key))
    assert "not accepted" in refused(broker, token(claims(), None))  # alg=none on a JWKS listener
    assert "signature" in refused(broker, token(claims(), stranger))
    assert "signing key" in refused(broker, token(claims(), signing_key, kid="unknown"))
    wrong_audience = {**claims(), "aud": "someone-else"}
    assert "audience" in refused(broker, token(wrong_audience, signing_key))
    assert "decoded" in refused(broker, "not.a-token.at-all")


def test_only_its_listener_validates_with_the_jwks(broker: SecureBroker) -> None:
    """The unsecured validator stays on SASL_PLAINTEXT: it refuses an expired token too."""
    client = RawClient(broker.ports["SASL_PLAINTEXT"])
    assert client.call(HANDSHAKE, 1, {"mechanism": "OAUTHBEARER"}).error_code == ErrorCode.none
    bearer = token(claims(lifetime=-120), None)
    answer = client.call(AUTHENTICATE, 2, {"auth_bytes": f"n,,\x01auth=Bearer {bearer}\x01\x01".encode()})
    assert answer.error_code == ErrorCode.sasl_authentication_failed and "expired" in answer.error_message
