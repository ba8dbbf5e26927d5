"""A secured broker for tests: certificates made with trustme, one port per listener.

One broker per test module carries every listener (PLAINTEXT, SASL_PLAINTEXT, SASL_SSL and
SSL with client certificates) so each client's whole matrix runs against one process.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme

from tests.support.broker import BrokerProcess, free_port

ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
USER, PASSWORD = "alice", "alice-secret"
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass
class Tls:
    ca_file: Path
    server_file: Path  # key + chain, a PEM keystore
    client_cert: Path
    client_key: Path
    client_bundle: Path  # key + chain in one file


def make_tls(directory: Path) -> Tls:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("client.example", common_name=USER, organization_name="Fjord",
                           organization_unit_name="tests")
    directory.mkdir(parents=True, exist_ok=True)
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "client-cert.pem",
              directory / "client-key.pem", directory / "client.pem")
    ca.cert_pem.write_to_path(str(tls.ca_file))
    server.private_key_and_cert_chain_pem.write_to_path(str(tls.server_file))
    client.cert_chain_pems[0].write_to_path(str(tls.client_cert))
    client.private_key_pem.write_to_path(str(tls.client_key))
    client.private_key_and_cert_chain_pem.write_to_path(str(tls.client_bundle))
    return tls


def jaas_plain(users: dict[str, str]) -> str:
    entries = " ".join(f'user_{name}="{password}"' for name, password in users.items())
    return f"org.apache.kafka.common.security.plain.PlainLoginModule required {entries};"


class SecureBroker(BrokerProcess):
    """A broker with PLAINTEXT, SASL_PLAINTEXT, SASL_SSL and SSL (mTLS) listeners."""

    def __init__(self, data_dir: Path, tls: Tls, extra: dict[str, str] | None = None) -> None:
        self.tls = tls
        self.ports = {name: free_port() for name in ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL")}
        listeners = ",".join(f"{name}://127.0.0.1:{port}" for name, port in self.ports.items())
        overrides = {
            "listeners": listeners,
            "sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "listener.name.sasl_plaintext.plain.sasl.jaas.config":
                jaas_plain({ADMIN: ADMIN_PASSWORD, USER: PASSWORD}),
            "listener.name.sasl_ssl.plain.sasl.jaas.config":
                jaas_plain({ADMIN: ADMIN_PASSWORD, USER: PASSWORD}),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(tls.server_file),
            "ssl.keystore.password": "store-secret",  # unused by an unencrypted PEM key
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(tls.ca_file),
            "listener.name.ssl.ssl.client.auth": "required",
            "ssl.principal.mapping.rules": "RULE:^CN=([^,]+),.*$/$1/,DEFAULT",
            **(extra or {}),
        }
        super().__init__(data_dir, overrides, port=self.ports["PLAINTEXT"])

    def start(self, timeout: float = 20.0) -> SecureBroker:
        def listening() -> bool:
            for port in self.ports.values():
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    pass
            return True

        self.spawn(self.command(), listening, timeout)
        return self

    def address(self, listener: str) -> str:
        return f"127.0.0.1:{self.ports[listener]}"

    def confluent(self, protocol: str, mechanism: str | None = None, user: str = USER,
                  password: str = PASSWORD) -> dict[str, Any]:
        """librdkafka settings for one listener (its name is its protocol here)."""
        conf = {"bootstrap.servers": self.address(protocol), "security.protocol": protocol}
        if mechanism:
            conf.update({"sasl.mechanism": mechanism, "sasl.username": user, "sasl.password": password})
        if protocol.endswith("SSL"):
            conf["ssl.ca.location"] = str(self.tls.ca_file)
        if protocol == "SSL":
            conf.update({"ssl.certificate.location": str(self.tls.client_cert),
                         "ssl.key.location": str(self.tls.client_key)})
        return conf
