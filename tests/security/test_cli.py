"""`fjord users`, `fjord acls` and `fjord topics --command-config` against a secured broker
with an authorizer, as a Kafka operator would use kafka-configs.sh / kafka-acls.sh."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.support import ADMIN, ADMIN_PASSWORD, SecureBroker, Tls


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, tls: Tls) -> Iterator[SecureBroker]:
    proc = SecureBroker(tmp_path_factory.mktemp("cli") / "data", tls, {
        "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
        "super.users": f"User:{ADMIN}"}).start()
    yield proc
    proc.stop()


def properties(path: Path, lines: dict[str, str]) -> Path:
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


def fjord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fjord.cli.main", *args], capture_output=True,
                          text=True, timeout=120)


def test_users_acls_and_command_config(broker: SecureBroker, tmp_path: Path) -> None:
    admin_file = properties(tmp_path / "admin.properties", {
        "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
        "sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required '
                            f'username="{ADMIN}" password="{ADMIN_PASSWORD}";',
        "ssl.truststore.type": "PEM", "ssl.truststore.location": str(broker.tls.ca_file)})
    common = ["--bootstrap-server", broker.address("SASL_SSL"), "--command-config", str(admin_file)]
    added = fjord("users", "add", "carol", "--password", "carol-pw", "--mechanism", "SCRAM-SHA-512",
                  "--iterations", "8192", *common)
    assert added.returncode == 0, added.stderr
    listed = fjord("users", "list", *common)
    assert listed.returncode == 0, listed.stderr
    assert [line.split() for line in listed.stdout.splitlines()[1:]] == [["carol", "SCRAM-SHA-512", "8192"]]
    assert "carol-pw" not in listed.stdout
    assert fjord("topics", "create", "orders", *common).returncode == 0

    carol_file = properties(tmp_path / "carol.properties", {
        "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                            'username="carol" password="carol-pw";'})
    carol = ["--bootstrap-server", broker.address("SASL_PLAINTEXT"), "--command-config", str(carol_file)]
    before = fjord("topics", "list", *carol)
    assert before.returncode == 0 and "orders" not in before.stdout.split()  # cannot describe it

    granted = fjord("acls", "--add", "--allow-principal", "User:carol", "--operation", "Describe",
                    "--topic", "ord", "--resource-pattern-type", "prefixed", *common)
    assert granted.returncode == 0, granted.stderr
    shown = fjord("acls", "--list", "--topic", "orders", "--resource-pattern-type", "match", *common)
    assert "principal=User:carol" in shown.stdout and "patternType=PREFIXED" in shown.stdout, shown.stdout
    after = fjord("topics", "list", *carol)
    assert after.returncode == 0 and "orders" in after.stdout.split()

    denied = fjord("acls", "--add", "--allow-principal", "User:carol", "--operation", "All",
                   "--cluster", *carol)  # carol may not alter ACLs
    assert denied.returncode != 0
    assert "CLUSTER_AUTHORIZATION_FAILED" in denied.stderr.upper().replace(" ", "_"), denied.stderr
    removed = fjord("acls", "--remove", "--topic", "ord", "--resource-pattern-type", "prefixed", *common)
    assert removed.returncode == 0 and "User:carol" in removed.stdout
    assert "orders" not in fjord("topics", "list", *carol).stdout.split()
    quota = fjord("quotas", "alter", "--add-config", "producer_byte_rate=1048576", "--user", "carol",
                  "--client-default", *common)  # over SASL_SSL: fjord's own wire client authenticates
    assert quota.returncode == 0, quota.stderr
    quotas = fjord("quotas", "describe", "--user", "carol", *common)
    assert [line.split() for line in quotas.stdout.splitlines()[1:]] == [
        ["carol", "<default>", "producer_byte_rate", "1048576"]], quotas.stdout
    refused = fjord("quotas", "describe", *carol)
    assert refused.returncode != 0 and "CLUSTER_AUTHORIZATION_FAILED" in refused.stderr.upper()
    configs = fjord("configs", "--entity-type", "brokers", "--entity-name", "1", "--describe", "--all",
                    *common)
    assert configs.returncode == 0 and "ssl.truststore.location=" in configs.stdout, configs.stderr
    hidden = fjord("configs", "--entity-type", "brokers", "--entity-name", "1", "--describe", *carol)
    assert hidden.returncode != 0 and "CLUSTER_AUTHORIZATION_FAILED" in hidden.stderr.upper(), hidden.stderr
    altered = fjord("topics", "alter", "orders", "--partitions", "3", *carol)
    assert altered.returncode != 0 and "AUTHORIZATION" in altered.stderr.upper(), altered.stderr
    assert fjord("users", "delete", "carol", *common).returncode == 0
    assert fjord("users", "list", *common).stdout.splitlines()[1:] == []
