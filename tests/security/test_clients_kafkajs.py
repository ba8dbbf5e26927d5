"""kafkajs against every listener and mechanism of a secured broker (a node process per case)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.security.support import MECHANISMS, PASSWORD, USER, SecureBroker

SCRIPT = Path(__file__).parent.parent / "compat" / "js" / "secure_client.js"
CASES = [(p, m) for p in ("SASL_PLAINTEXT", "SASL_SSL") for m in MECHANISMS] + [("SSL", None)]


def run(broker: SecureBroker, protocol: str, mechanism: str | None, action: str,
        password: str = PASSWORD) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is missing: run scripts/setup.sh --test"
    opts: dict[str, Any] = {"broker": broker.address(protocol), "action": action,
                            "topic": f"t-{uuid.uuid4().hex[:8]}"}
    if mechanism:
        opts.update(mechanism=mechanism, username=USER, password=password)
    if protocol.endswith("SSL"):
        opts["ca"] = str(broker.tls.ca_file)
    if protocol == "SSL":
        opts.update(cert=str(broker.tls.client_cert), key=str(broker.tls.client_key))
    done = subprocess.run([node, str(SCRIPT), json.dumps(opts)], capture_output=True, text=True, timeout=90)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no answer from kafkajs: {done.stdout} {done.stderr}"
    return json.loads(lines[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
def test_produce_consume(secure_broker: SecureBroker, protocol: str, mechanism: str | None) -> None:
    outcome = run(secure_broker, protocol, mechanism, "roundtrip")
    assert outcome.get("values") == [f"v{i}" for i in range(5)], outcome


@pytest.mark.parametrize(("protocol", "mechanism"), CASES[:-1])
def test_wrong_password_fails(secure_broker: SecureBroker, protocol: str, mechanism: str) -> None:
    """kafkajs raises KafkaJSSASLAuthenticationError carrying the broker's message."""
    outcome = run(secure_broker, protocol, mechanism, "connect", password="wrong")
    assert not outcome["ok"]
    assert outcome["name"] == "KafkaJSSASLAuthenticationError", outcome
    assert "Authentication failed" in outcome["message"]
