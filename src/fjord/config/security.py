"""Kafka's security keys of a broker: listeners' protocols, TLS, SASL, the authorizer, quotas.

They sit in their own table so the broker table stays readable, and so the rules for
`listener.name.<listener>.<key>` (Kafka's per-listener overrides) live next to the keys
they override. Passwords and key material are `password` keys: DescribeConfigs answers
null for them and nothing logs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fjord.config.definitions import ConfigError, ConfigKey, ConfigTable, at_least, one_of

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")
_PREFIX = re.compile(r"^listener\.name\.([a-z0-9_-]+)\.(.+)$", re.IGNORECASE)
_JAAS = re.compile(r"^([a-z0-9-]+)\.sasl\.jaas\.config$")


def _password(name: str, doc: str = "") -> ConfigKey:
    return ConfigKey(name, "password", None, doc, sensitive=True)


SECURITY_KEYS = [
    # --- TLS -------------------------------------------------------------------------------
    ConfigKey("ssl.keystore.type", "string", "JKS",
              "PEM or PKCS12 (Fjord reads no Java keystores).", one_of("JKS", "PEM", "PKCS12")),
    ConfigKey("ssl.keystore.location", "string", None, "The broker's key and certificate chain."),
    _password("ssl.keystore.password", "Password of the keystore file."),
    _password("ssl.key.password", "Password of the private key."),
    _password("ssl.keystore.key", "PEM private key given inline (ssl.keystore.type=PEM)."),
    _password("ssl.keystore.certificate.chain", "PEM certificate chain given inline."),
    ConfigKey("ssl.truststore.type", "string", "JKS", "PEM or PKCS12.", one_of("JKS", "PEM", "PKCS12")),
    ConfigKey("ssl.truststore.location", "string", None, "CA certificates that sign client certificates."),
    _password("ssl.truststore.password", "Password of the truststore file."),
    _password("ssl.truststore.certificates", "PEM CA certificates given inline."),
    ConfigKey("ssl.client.auth", "string", "none", "none, requested or required (mTLS).",
              one_of("none", "requested", "required")),
    ConfigKey("ssl.enabled.protocols", "list", ["TLSv1.2", "TLSv1.3"],
              "TLS versions accepted; older ones are refused.", one_of("TLSv1.2", "TLSv1.3")),
    ConfigKey("ssl.protocol", "string", "TLSv1.3"),
    ConfigKey("ssl.cipher.suites", "list", None, "OpenSSL cipher names for TLS 1.2 (empty: defaults)."),
    ConfigKey("ssl.endpoint.identification.algorithm", "string", "https"),
    ConfigKey("ssl.principal.mapping.rules", "string", "DEFAULT",
              "Rules turning a certificate's DN into a user name, as in Kafka."),
    # --- SASL ------------------------------------------------------------------------------
    ConfigKey("sasl.enabled.mechanisms", "list", ["GSSAPI"], "Mechanisms offered on SASL listeners.",
              one_of(*MECHANISMS)),
    ConfigKey("sasl.mechanism.inter.broker.protocol", "string", "GSSAPI", inert=True),
    ConfigKey("security.inter.broker.protocol", "string", "PLAINTEXT", inert=True),
    _password("sasl.jaas.config",
              "JAAS login module line (prefer listener.name.<l>.<mech>.sasl.jaas.config)."),
    ConfigKey("sasl.server.max.receive.size", "int", 524288, "Largest SASL token before authentication.",
              at_least(1)),
    ConfigKey("connections.max.reauth.ms", "long", 0,
              "Longest SASL session; past it a client must re-authenticate (KIP-368).", at_least(0)),
    ConfigKey("sasl.oauthbearer.jwks.endpoint.url", "string", None,
              "JWKS (file:// or http(s)://) that OAUTHBEARER tokens are verified against."),
    ConfigKey("sasl.oauthbearer.expected.audience", "list", None),
    ConfigKey("sasl.oauthbearer.expected.issuer", "string", None),
    ConfigKey("sasl.oauthbearer.sub.claim.name", "string", "sub"),
    ConfigKey("sasl.oauthbearer.clock.skew.seconds", "int", 30, validator=at_least(0)),
    ConfigKey("principal.builder.class", "class", None, inert=True),
    # --- authorization ---------------------------------------------------------------------
    ConfigKey("authorizer.class.name", "string", "",
              "An authorizer class (Kafka's StandardAuthorizer or AclAuthorizer names); empty: none."),
    ConfigKey("super.users", "string", None, "Principals allowed everything, separated by ';'."),
    ConfigKey("allow.everyone.if.no.acl.found", "boolean", False,
              "Allow a request on a resource that has no ACL at all."),
    # --- quotas ----------------------------------------------------------------------------
    ConfigKey("quota.window.num", "int", 11, "Samples kept per client quota.", at_least(1)),
    ConfigKey("quota.window.size.seconds", "int", 1, "Length of one quota sample.", at_least(1)),
]

# The keys that may carry a `listener.name.<l>.` prefix (Kafka's ListenerName prefix).
LISTENER_KEYS = frozenset(
    key.name for key in SECURITY_KEYS
    if key.name.startswith(("ssl.", "sasl.", "connections.max.reauth"))
)


def parse_protocol_map(text: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in (part.strip() for part in text.split(",")):
        if not pair:
            continue
        name, sep, protocol = pair.partition(":")
        protocol = protocol.strip().upper()
        if not sep or protocol not in PROTOCOLS:
            raise ConfigError(
                f"Invalid listener.security.protocol.map entry {pair!r}: expected "
                "NAME:PROTOCOL with PROTOCOL one of " + ", ".join(PROTOCOLS))
        result[name.strip().upper()] = protocol
    return result


def listener_prefixed(settings: Mapping[str, Any], table: ConfigTable
                      ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split `listener.name.<l>.<key>` settings off: (the rest, {listener: {key: value}}).

    `<mechanism>.sasl.jaas.config` (lower-case mechanism) is kept as a string; every other
    key is parsed and validated as the key it overrides.
    """
    rest: dict[str, Any] = {}
    per_listener: dict[str, dict[str, Any]] = {}
    for name, value in settings.items():
        match = _PREFIX.match(name)
        if match is None:
            rest[name] = value
            continue
        listener, key = match.group(1).lower(), match.group(2)
        jaas = _JAAS.match(key)
        if jaas is not None:
            if jaas.group(1).upper() not in MECHANISMS:
                raise ConfigError(f"{name} names an unknown SASL mechanism {jaas.group(1)!r}")
            parsed: Any = str(value)
        elif key in LISTENER_KEYS:
            parsed = table[key].parse(value)
        else:
            raise ConfigError(f"{name}: {key} cannot be set per listener")
        per_listener.setdefault(listener, {})[key] = parsed
    return rest, per_listener
