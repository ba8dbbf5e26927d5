"""Worker settings, read from the same keys as Apache Kafka's connect-*.properties.

Only the keys the runtime acts on are typed here; everything else is kept verbatim so the
`producer.*`, `consumer.*`, `admin.*` pass-through prefixes and config providers work.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from fjord.config.properties import read_properties
from fjord.connect.config_def import ConfigException

DEFAULTS: dict[str, str] = {
    "bootstrap.servers": "localhost:9092",
    "key.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "header.converter": "org.apache.kafka.connect.storage.SimpleHeaderConverter",
    "listeners": "http://:8083",
    "offset.flush.interval.ms": "60000",
    "offset.flush.timeout.ms": "5000",
    "task.shutdown.graceful.timeout.ms": "5000",
    "config.storage.topic": "connect-configs",
    "offset.storage.topic": "connect-offsets",
    "status.storage.topic": "connect-status",
    "config.storage.replication.factor": "3",
    "offset.storage.replication.factor": "3",
    "status.storage.replication.factor": "3",
    "offset.storage.partitions": "25",
    "status.storage.partitions": "5",
    "session.timeout.ms": "10000",
    "heartbeat.interval.ms": "3000",
    "rebalance.timeout.ms": "60000",
    "scheduled.rebalance.max.delay.ms": "300000",
    "worker.sync.timeout.ms": "3000",
    "plugin.path": "",
    "topic.creation.enable": "true",
    "connector.client.config.override.policy": "All",
}


@dataclass(frozen=True)
class RestListener:
    scheme: str
    host: str
    port: int


class WorkerConfig:
    def __init__(self, props: Mapping[str, str], distributed: bool) -> None:
        self.explicit = {k: str(v) for k, v in props.items()}
        self.originals = {**DEFAULTS, **self.explicit}
        self.distributed = distributed
        self.providers = load_config_providers(self.originals)
        self.values = {k: resolve_placeholders(v, self.providers) for k, v in self.originals.items()}
        if distributed and not self.values.get("group.id"):
            raise ConfigException('Missing required configuration "group.id" which has no default '
                                  "value.")

    @classmethod
    def from_file(cls, path: str | Path, distributed: bool,
                  overrides: Mapping[str, str] | None = None) -> WorkerConfig:
        return cls({**read_properties(path), **(overrides or {})}, distributed)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def get_str(self, key: str) -> str:
        return str(self.values.get(key, DEFAULTS.get(key, "")))

    def get_int(self, key: str) -> int:
        try:
            return int(self.get_str(key))
        except ValueError as exc:
            raise ConfigException(key, self.get_str(key), "Not a number") from exc

    @property
    def bootstrap_servers(self) -> str:
        return self.get_str("bootstrap.servers")

    @property
    def group_id(self) -> str:
        return self.get_str("group.id")

    @property
    def plugin_path(self) -> list[str]:
        return [item.strip() for item in self.get_str("plugin.path").split(",") if item.strip()]

    def listener(self) -> RestListener:
        if "listeners" not in self.explicit and ("rest.port" in self.values
                                                 or "rest.host.name" in self.values):
            # The pre-KIP-208 keys the Definitive Guide still uses: rest.host.name, rest.port.
            return RestListener("http", self.values.get("rest.host.name") or "0.0.0.0",
                            int(self.values.get("rest.port") or 8083))
        first = self.get_str("listeners").split(",")[0].strip()
        parsed = urlparse(first)
        if parsed.scheme not in ("http", "https"):
            raise ConfigException("listeners", first, "RestListener scheme must be http or https")
        return RestListener(parsed.scheme, parsed.hostname or "0.0.0.0", parsed.port or 8083)

    def rest_tls(self) -> dict[str, Any]:
        """uvicorn's TLS settings for an `https` REST listener, from Kafka's keys: the
        `listeners.https.` prefixed ones first, then the worker's own `ssl.*` (Kafka's
        RestServer does the same). Only PEM key stores: a PEM file holding the private key and
        its certificate chain. An http listener gets none; an https one without a key store is
        refused rather than served in the clear."""
        if self.listener().scheme != "https":
            return {}

        def ssl_key(name: str) -> str | None:
            value = self.values.get(f"listeners.https.{name}") or self.values.get(name)
            return str(value) if value else None

        store_type = (ssl_key("ssl.keystore.type") or "PEM").upper()
        location = ssl_key("ssl.keystore.location")
        if store_type != "PEM" or not location:
            raise ConfigException("listeners", self.get_str("listeners"),
                                  "an https REST listener needs ssl.keystore.type=PEM and "
                                  "ssl.keystore.location (or listeners.https.ssl.*): a PEM file "
                                  "with the private key and its certificate chain")
        settings: dict[str, Any] = {"ssl_keyfile": location, "ssl_certfile": location}
        password = ssl_key("ssl.key.password") or ssl_key("ssl.keystore.password")
        if password:
            settings["ssl_keyfile_password"] = password
        trust = ssl_key("ssl.truststore.location")
        if trust:
            settings["ssl_ca_certs"] = trust
        client_auth = (ssl_key("ssl.client.auth") or "none").lower()
        choices = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
        if client_auth not in choices:
            raise ConfigException("ssl.client.auth", client_auth, "must be none, requested or required")
        settings["ssl_cert_reqs"] = choices[client_auth]
        return settings

    def advertised_url(self) -> str:
        listener = self.listener()
        host = self.get("rest.advertised.host.name") or (
            listener.host if listener.host not in ("0.0.0.0", "") else socket.getfqdn())
        port = self.get("rest.advertised.port") or listener.port
        scheme = self.get("rest.advertised.listener") or listener.scheme
        return f"{scheme}://{host}:{port}"

    def worker_id(self) -> str:
        url = urlparse(self.advertised_url())
        return f"{url.hostname}:{url.port}"

    def prefixed(self, prefix: str) -> dict[str, str]:
        return {k[len(prefix):]: v for k, v in self.values.items() if k.startswith(prefix)}

    def client_config(self, kind: str) -> dict[str, Any]:
        """librdkafka settings for a producer/consumer/admin: bootstrap plus `<kind>.` overrides."""
        base: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers}
        for key, value in self.values.items():  # the worker's own security, Kafka's keys
            if key.startswith(("security.protocol", "sasl.", "ssl.")):
                base[key] = value
        base.update(self.prefixed(kind + "."))
        return base


# ---------------------------------------------------------------- config providers (KIP-297)

_PLACEHOLDER = re.compile(r"\$\{([^}:]+):(?:([^}:]*):)?([^}]+)\}")


class ConfigProvider:
    def get(self, path: str, key: str) -> str | None:
        raise NotImplementedError


class FileConfigProvider(ConfigProvider):
    """`${file:/path/to/file.properties:key}`: a key of a properties file."""

    def get(self, path: str, key: str) -> str | None:
        return read_properties(path).get(key)


class DirectoryConfigProvider(ConfigProvider):
    """`${directory:/path:filename}`: the contents of one file in a directory."""

    def get(self, path: str, key: str) -> str | None:
        target = Path(path) / key
        return target.read_text(encoding="utf-8").strip() if target.is_file() else None


class EnvVarConfigProvider(ConfigProvider):
    """`${env:NAME}` / `${env::NAME}`: an environment variable."""

    def get(self, path: str, key: str) -> str | None:
        return os.environ.get(key)


PROVIDERS: dict[str, type[ConfigProvider]] = {
    "org.apache.kafka.common.config.provider.FileConfigProvider": FileConfigProvider,
    "org.apache.kafka.common.config.provider.DirectoryConfigProvider": DirectoryConfigProvider,
    "org.apache.kafka.common.config.provider.EnvVarConfigProvider": EnvVarConfigProvider,
}


def load_config_providers(props: Mapping[str, str]) -> dict[str, ConfigProvider]:
    providers: dict[str, ConfigProvider] = {}
    for name in [n.strip() for n in props.get("config.providers", "").split(",") if n.strip()]:
        class_name = props.get(f"config.providers.{name}.class", "")
        cls = PROVIDERS.get(class_name) or next(
            (c for full, c in PROVIDERS.items() if full.endswith("." + class_name)), None)
        if cls is None:
            raise ConfigException(f"config.providers.{name}.class", class_name,
                                  "Unknown config provider class")
        providers[name] = cls()
    return providers


def resolve_placeholders(value: str, providers: Mapping[str, ConfigProvider]) -> str:
    if "${" not in value or not providers:
        return value

    def substitute(match: re.Match[str]) -> str:
        provider = providers.get(match.group(1))
        if provider is None:
            return match.group(0)
        found = provider.get(match.group(2) or "", match.group(3))
        return match.group(0) if found is None else found

    return _PLACEHOLDER.sub(substitute, value)
