"""kcat (Debian's build of librdkafka) against every listener and mechanism of a secured broker."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from tests.security.support import MECHANISMS, PASSWORD, SecureBroker

CASES = [(p, m) for p in ("SASL_PLAINTEXT", "SASL_SSL") for m in MECHANISMS] + [("SSL", None)]


def kcat_args(broker: SecureBroker, protocol: str, mechanism: str | None, password: str = PASSWORD
              ) -> list[str]:
    kcat = shutil.which("kcat")
    assert kcat, "kcat is missing: run scripts/setup.sh --test"
    conf = broker.confluent(protocol, mechanism, password=password)
    if mechanism:
        conf["sasl.mechanisms"] = conf.pop("sasl.mechanism")
    args = [kcat, "-b", conf.pop("bootstrap.servers")]
    for key, value in conf.items():
        args += ["-X", f"{key}={value}"]
    return args


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
def test_produce_consume(secure_broker: SecureBroker, protocol: str, mechanism: str | None) -> None:
    base = kcat_args(secure_broker, protocol, mechanism)
    topic = f"t-{uuid.uuid4().hex[:8]}"
    lines = "".join(f"v{i}\n" for i in range(5))
    produced = subprocess.run([*base, "-P", "-t", topic], input=lines, capture_output=True, text=True,
                              timeout=60)
    assert produced.returncode == 0, produced.stderr
    consumed = subprocess.run([*base, "-C", "-t", topic, "-o", "beginning", "-e", "-q"],
                              capture_output=True, text=True, timeout=60)
    assert consumed.returncode == 0, consumed.stderr
    assert consumed.stdout.split() == [f"v{i}" for i in range(5)]


@pytest.mark.parametrize(("protocol", "mechanism"), CASES[:-1])
def test_wrong_password_fails(secure_broker: SecureBroker, protocol: str, mechanism: str) -> None:
    """kcat -L exits non-zero and prints librdkafka's SASL authentication error."""
    listed = subprocess.run([*kcat_args(secure_broker, protocol, mechanism, "wrong"), "-L", "-m", "3"],
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode != 0
    assert "Authentication failed" in listed.stderr, listed.stderr
