from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka.admin import (
    AdminClient,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)

from tests.security.support import ADMIN, ADMIN_PASSWORD, PASSWORD, USER, SecureBroker, Tls, make_tls


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


def add_scram_user(broker: SecureBroker, user: str = USER, password: str = PASSWORD) -> None:
    admin = AdminClient(broker.confluent("SASL_PLAINTEXT", "PLAIN", ADMIN, ADMIN_PASSWORD))
    upserts: list[UserScramCredentialAlteration] = [
        UserScramCredentialUpsertion(user, ScramCredentialInfo(mechanism, 4096), password.encode())
               for mechanism in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)]
    for future in admin.alter_user_scram_credentials(upserts).values():
        future.result(timeout=30)


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[SecureBroker]:
    """The module's one secured broker (no authorizer), with alice's SCRAM credentials."""
    directory = tmp_path_factory.mktemp("secure")
    broker = SecureBroker(directory / "data", tls).start()
    try:
        add_scram_user(broker)
        yield broker
    finally:
        broker.stop()
