"""What each listener demands of a connection, and where one connection stands.

A listener's protocol decides: PLAINTEXT connections are ANONYMOUS from the start; SSL
ones take their principal from the client certificate; SASL ones admit only ApiVersions,
SaslHandshake and SaslAuthenticate until a mechanism succeeds (anything else closes the
connection, as in Kafka). With `connections.max.reauth.ms` a SASL session has an end:
past it the client must re-authenticate (KIP-368) or its next request closes the
connection, which is how a removed user's live connections end.

`Session.gate` is the one attribute the request path tests: it is False for a connection
that has nothing left to check, so PLAINTEXT costs nothing more per request.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fjord.config.broker import BrokerConfig, Listener
from fjord.config.definitions import ConfigError
from fjord.metadata.security import ScramCredential
from fjord.security.jaas import parse_jaas
from fjord.security.principal import ANONYMOUS, KafkaPrincipal, PrincipalMapper, certificate_dn
from fjord.security.sasl import (
    AuthenticationFailed,
    OAuthBearerServer,
    PlainServer,
    SaslServer,
    ScramServer,
    unsecured_validator,
)
from fjord.security.scram import MECHANISMS as SCRAM_MECHANISMS
from fjord.security.tls import server_context

log = logging.getLogger("fjord.security")

SASL_HANDSHAKE, API_VERSIONS, SASL_AUTHENTICATE = 17, 18, 36
_SUPPORTED = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")


class ConnectionRefused(Exception):
    """The connection must close now (a request out of SASL order, an expired session)."""


@dataclass
class ListenerSecurity:
    listener: Listener
    advertised: tuple[str, int]
    ssl_context: ssl.SSLContext | None = None
    mechanisms: list[str] = field(default_factory=list)
    plain_users: dict[str, str] = field(default_factory=dict)
    mapper: PrincipalMapper | None = None
    reauth_ms: int = 0
    max_token: int = 524288
    token_validator: Callable[[str], dict[str, Any]] | None = None
    subject_claim: str = "sub"
    scram_lookup: Callable[[str, str], ScramCredential | None] = lambda user, mech: None

    @property
    def sasl(self) -> bool:
        return self.listener.protocol.startswith("SASL_")

    def new_session(self, ssl_object: Any) -> Session:
        principal = ANONYMOUS
        if ssl_object is not None and self.mapper is not None:
            der = ssl_object.getpeercert(binary_form=True)
            if der:
                principal = KafkaPrincipal("User", self.mapper.name_for(certificate_dn(der)))
        return Session(self, principal)

    def server_for(self, mechanism: str) -> SaslServer:
        if mechanism == "PLAIN":
            return PlainServer(self.plain_users)
        if mechanism in SCRAM_MECHANISMS:
            return ScramServer(mechanism, self.scram_lookup)
        assert self.token_validator is not None
        return OAuthBearerServer(self.token_validator, self.subject_claim)


class Session:
    """One connection's authentication state."""

    __slots__ = ("authenticated", "close_after", "expires_at", "gate", "listener", "mute_ms",
                 "principal", "raw_tokens", "sasl")

    def __init__(self, listener: ListenerSecurity, principal: KafkaPrincipal) -> None:
        self.listener = listener
        self.principal = principal
        self.authenticated = not listener.sasl
        self.gate = listener.sasl
        self.sasl: SaslServer | None = None
        self.raw_tokens = False  # after a v0 SaslHandshake, tokens come without a header
        self.expires_at = 0.0  # monotonic seconds; 0: never
        self.close_after = False  # answer this request, then close
        self.mute_ms = 0  # a quota's throttle time, set by the handler that measured it

    def admit(self, api_key: int) -> None:
        """Called for every request while `gate` is set; raises ConnectionRefused."""
        if api_key in (SASL_HANDSHAKE, API_VERSIONS):
            return
        if api_key == SASL_AUTHENTICATE and self.sasl is not None:
            return
        if not self.authenticated:
            raise ConnectionRefused("a request before SASL authentication completed")
        if self.expires_at and time.monotonic() > self.expires_at:
            raise ConnectionRefused(f"the SASL session of {self.principal} expired "
                                    "(connections.max.reauth.ms) without re-authentication")

    def handshake(self, mechanism: str) -> bool:
        """False when the mechanism is not enabled here (the caller answers and closes)."""
        if mechanism not in self.listener.mechanisms:
            self.close_after = True
            return False
        self.sasl = self.listener.server_for(mechanism)
        return True

    def authenticate(self, token: bytes) -> tuple[bytes, int]:
        """(server token, session lifetime ms or 0); raises AuthenticationFailed."""
        server = self.sasl
        if server is None:
            raise AuthenticationFailed("SaslAuthenticate before SaslHandshake")
        if len(token) > self.listener.max_token:
            raise AuthenticationFailed("SASL token larger than sasl.server.max.receive.size")
        reply = server.evaluate(token)
        if not server.complete:
            return reply, 0
        assert server.principal is not None
        if self.authenticated and self.principal != server.principal:
            raise AuthenticationFailed(f"Cannot change principals during re-authentication from "
                                       f"{self.principal} to {server.principal}")
        self.principal = server.principal
        self.authenticated = True
        self.sasl = None
        self.raw_tokens = False
        lifetime = self.listener.reauth_ms
        if server.lifetime_ms is not None:
            lifetime = min(lifetime, server.lifetime_ms) if lifetime else server.lifetime_ms
        self.expires_at = time.monotonic() + lifetime / 1000 if lifetime else 0.0
        self.gate = bool(self.expires_at)
        return reply, lifetime


def listener_security(config: BrokerConfig, listener: Listener, advertised: tuple[str, int],
                      scram_lookup: Callable[[str, str], ScramCredential | None]) -> ListenerSecurity:
    """Build what a listener needs from the config, or raise ConfigError naming the fix."""

    def get(key: str) -> Any:
        return config.for_listener(listener.name, key)

    security = ListenerSecurity(listener, advertised, scram_lookup=scram_lookup)
    protocol = listener.protocol
    if protocol in ("SSL", "SASL_SSL"):
        security.ssl_context = server_context(get, listener.name)
    if protocol == "SSL":
        security.mapper = PrincipalMapper(get("ssl.principal.mapping.rules"))
    if not security.sasl:
        return security
    mechanisms = list(get("sasl.enabled.mechanisms"))
    unsupported = [m for m in mechanisms if m not in _SUPPORTED]
    if unsupported:
        raise ConfigError(f"sasl.enabled.mechanisms of listener {listener.name} lists "
                          f"{','.join(unsupported)}, which Fjord does not offer: use "
                          f"{','.join(_SUPPORTED)}")
    security.mechanisms = mechanisms
    security.reauth_ms = int(get("connections.max.reauth.ms"))
    security.max_token = int(get("sasl.server.max.receive.size"))
    if "PLAIN" in mechanisms:
        text = get("plain.sasl.jaas.config") or get("sasl.jaas.config")
        where = f"listener.name.{listener.name.lower()}.plain.sasl.jaas.config"
        if not text:
            raise ConfigError(f"Listener {listener.name} enables PLAIN but has no users: set {where} "
                              "to 'org.apache.kafka.common.security.plain.PlainLoginModule required "
                              "user_<name>=\"<password>\";'")
        security.plain_users = parse_jaas(text, where).plain_users()
    if "OAUTHBEARER" in mechanisms:
        skew = int(get("sasl.oauthbearer.clock.skew.seconds"))
        security.subject_claim = str(get("sasl.oauthbearer.sub.claim.name"))
        url = get("sasl.oauthbearer.jwks.endpoint.url")
        if url:
            from fjord.security.jwks import jwks_validator

            security.token_validator = jwks_validator(
                url, skew, get("sasl.oauthbearer.expected.audience"),
                get("sasl.oauthbearer.expected.issuer"))
        else:
            security.token_validator = unsecured_validator(skew)
    return security
