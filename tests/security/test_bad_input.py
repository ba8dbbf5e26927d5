"""What no well-behaved client sends during authentication, over raw frames: each gets
Kafka's answer, the connection closes, and everybody else is served."""

from __future__ import annotations

import ssl

import pytest
import scramp
from kio.schema.errors import ErrorCode

from tests.security.support import ADMIN, PASSWORD, USER, SecureBroker
from tests.support.raw_client import RawClient

HANDSHAKE, AUTHENTICATE, METADATA, DESCRIBE_CONFIGS = 17, 36, 3, 32


def sasl_client(broker: SecureBroker) -> RawClient:
    return RawClient(broker.ports["SASL_PLAINTEXT"])


def plain_token(user: str, password: str) -> bytes:
    return b"\0" + user.encode() + b"\0" + password.encode()


def test_request_before_authentication_closes(secure_broker: SecureBroker) -> None:
    client = sasl_client(secure_broker)
    client.send(METADATA, 12, {"topics": None})
    assert client.closed_by_broker()


def test_unknown_mechanism_gets_the_enabled_list_and_closes(secure_broker: SecureBroker) -> None:
    client = sasl_client(secure_broker)
    answer = client.call(HANDSHAKE, 1, {"mechanism": "GSSAPI"})
    assert answer.error_code == ErrorCode.unsupported_sasl_mechanism
    assert set(answer.mechanisms) == {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}
    assert client.closed_by_broker()


@pytest.mark.parametrize("token", [plain_token(USER, "wrong"), plain_token("nobody", PASSWORD),
                                   b"garbage", plain_token(ADMIN, "")])
def test_failed_plain_answers_and_closes(secure_broker: SecureBroker, token: bytes) -> None:
    client = sasl_client(secure_broker)
    assert client.call(HANDSHAKE, 1, {"mechanism": "PLAIN"}).error_code == ErrorCode.none
    answer = client.call(AUTHENTICATE, 2, {"auth_bytes": token})
    assert answer.error_code == ErrorCode.sasl_authentication_failed
    assert answer.error_message.startswith(("Authentication failed", "Invalid SASL/PLAIN"))
    assert client.closed_by_broker()


def scram_exchange(client: RawClient, password: str, replay: str | None = None) -> tuple[str, object]:
    assert client.call(HANDSHAKE, 1, {"mechanism": "SCRAM-SHA-256"}).error_code == ErrorCode.none
    scram = scramp.ScramClient(["SCRAM-SHA-256"], USER, password)
    first = client.call(AUTHENTICATE, 2, {"auth_bytes": scram.get_client_first().encode()})
    assert first.error_code == ErrorCode.none
    scram.set_server_first(first.auth_bytes.decode())
    final = replay or scram.get_client_final()
    return final, client.call(AUTHENTICATE, 2, {"auth_bytes": final.encode()})


def test_scram_proof_mismatch_and_replay_fail(secure_broker: SecureBroker) -> None:
    good = sasl_client(secure_broker)
    final, answer = scram_exchange(good, PASSWORD)
    assert answer.error_code == ErrorCode.none  # type: ignore[attr-defined]
    assert good.call(METADATA, 12, {"topics": None}).brokers  # authenticated: served
    bad = sasl_client(secure_broker)
    _, answer = scram_exchange(bad, "wrong")
    assert answer.error_code == ErrorCode.sasl_authentication_failed  # type: ignore[attr-defined]
    assert bad.closed_by_broker()
    replayed = sasl_client(secure_broker)
    _, answer = scram_exchange(replayed, PASSWORD, replay=final)  # an old proof, a new nonce
    assert answer.error_code == ErrorCode.sasl_authentication_failed  # type: ignore[attr-defined]
    assert replayed.closed_by_broker()
    assert good.call(METADATA, 12, {"topics": None}).brokers  # nobody else disturbed


def test_v0_handshake_takes_raw_tokens(secure_broker: SecureBroker) -> None:
    client = sasl_client(secure_broker)
    assert client.call(HANDSHAKE, 0, {"mechanism": "PLAIN"}).error_code == ErrorCode.none
    client.sock.sendall(len(plain_token(USER, PASSWORD)).to_bytes(4, "big") + plain_token(USER, PASSWORD))
    assert client.read_frame() == b""
    answer = client.call(METADATA, 12, {"topics": None})
    assert answer.brokers[0].port == secure_broker.ports["SASL_PLAINTEXT"]  # its own listener


def test_tls_client_without_certificate_is_refused(secure_broker: SecureBroker) -> None:
    context = ssl.create_default_context(cafile=str(secure_broker.tls.ca_file))
    try:  # TLS 1.3 reports the refusal on the first read, as an alert or a closed socket
        client = RawClient(secure_broker.ports["SSL"], context)
        client.send(METADATA, 12, {"topics": None})
        refused = client.closed_by_broker()
    except (ssl.SSLError, OSError):
        refused = True
    assert refused
    context.load_cert_chain(str(secure_broker.tls.client_cert), str(secure_broker.tls.client_key))
    answer = RawClient(secure_broker.ports["SSL"], context).call(METADATA, 12, {"topics": None})
    assert answer.brokers[0].port == secure_broker.ports["SSL"]
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.load_verify_locations(str(secure_broker.tls.ca_file))
    old.maximum_version = ssl.TLSVersion.TLSv1_1
    old.minimum_version = ssl.TLSVersion.TLSv1
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        RawClient(secure_broker.ports["SASL_SSL"], old)


def test_secrets_stay_secret(secure_broker: SecureBroker) -> None:
    client = RawClient(secure_broker.ports["PLAINTEXT"])
    answer = client.call(DESCRIBE_CONFIGS, 4, {"resources": [
        {"resource_type": 4, "resource_name": "1", "configuration_keys": None}],
        "include_synonyms": True, "include_documentation": False})
    configs = {c.name: c for c in answer.results[0].configs}
    assert configs["ssl.keystore.location"].value == str(secure_broker.tls.server_file)
    secret = configs["ssl.keystore.password"]
    assert secret.is_sensitive and secret.value is None
    assert all(s.value is None for s in secret.synonyms)
    text = secure_broker.log_path.read_text()
    assert "store-secret" not in text and PASSWORD not in text and "wrong" not in text
