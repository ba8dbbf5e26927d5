"""Kafka's Java client security settings as librdkafka settings.

Kafka's tools take a `--command-config` file of Java client keys (`security.protocol`,
`sasl.mechanism`, `sasl.jaas.config`, `ssl.truststore.*`, `ssl.keystore.*`); Connect
worker files carry the same keys. librdkafka shares some names and not others: this is
the one translation, used by the CLI and by Connect's clients. Keys with no librdkafka
equivalent (JKS stores, Java class names) are returned separately so the caller can warn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_JAAS_VALUE = re.compile(r'(\w+)\s*=\s*"((?:\\.|[^"\\])*)"')
_JAVA_ONLY = ("sasl.login.", "sasl.client.callback", "ssl.truststore.type", "ssl.keystore.type",
              "ssl.trustmanager.", "ssl.keymanager.", "ssl.secure.random", "ssl.engine.factory",
              "ssl.protocol", "ssl.enabled.protocols", "ssl.provider")


def jaas_options(text: str) -> dict[str, str]:
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in _JAAS_VALUE.findall(text)}


def librdkafka_security(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(settings for librdkafka, Java-only keys that were dropped)."""
    out: dict[str, Any] = {}
    dropped: list[str] = []
    truststore_type = str(config.get("ssl.truststore.type", "JKS")).upper()
    keystore_type = str(config.get("ssl.keystore.type", "JKS")).upper()
    for key, value in config.items():
        if key == "sasl.jaas.config":
            options = jaas_options(str(value))
            if "username" in options:
                out.setdefault("sasl.username", options["username"])
            if "password" in options:
                out.setdefault("sasl.password", options["password"])
            if "unsecuredLoginStringClaim_sub" in options:
                out.setdefault("sasl.oauthbearer.config",
                               f"principal={options['unsecuredLoginStringClaim_sub']}")
                out.setdefault("enable.sasl.oauthbearer.unsecure.jwt", True)
        elif key == "ssl.truststore.location":
            if truststore_type == "PEM":
                out["ssl.ca.location"] = value
            else:
                dropped.append(key)  # librdkafka reads CA certificates as PEM only
        elif key == "ssl.truststore.certificates":
            out["ssl.ca.pem"] = value
        elif key == "ssl.keystore.location":
            if keystore_type == "PEM":  # one file: the key and the chain, as Kafka's PEM keystore
                out["ssl.certificate.location"] = value
                out["ssl.key.location"] = value
            elif keystore_type == "PKCS12":
                out["ssl.keystore.location"] = value
            else:
                dropped.append(key)
        elif key == "ssl.keystore.password":
            if keystore_type == "PKCS12":
                out["ssl.keystore.password"] = value
        elif key == "ssl.keystore.key":
            out["ssl.key.pem"] = value
        elif key == "ssl.keystore.certificate.chain":
            out["ssl.certificate.pem"] = value
        elif key == "ssl.endpoint.identification.algorithm":
            out[key] = "https" if str(value).lower() == "https" else "none"
        elif key in ("ssl.truststore.type", "ssl.keystore.type", "ssl.truststore.password"):
            continue
        elif key.startswith(_JAVA_ONLY):
            dropped.append(key)
        else:
            out[key] = value
    return out, dropped
