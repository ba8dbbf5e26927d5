"""Server sides of the SASL mechanisms: PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER.

Each is a small state machine fed the client's tokens one at a time (SaslAuthenticate's
auth bytes, or raw tokens after a v0 handshake). A failure raises AuthenticationFailed
with a message that is safe to send to the client: it never carries a secret and never
says whether the user exists.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import scramp

from fjord.metadata.security import ScramCredential
from fjord.security.principal import KafkaPrincipal

log = logging.getLogger("fjord.security")


class AuthenticationFailed(Exception):
    """Kafka's SaslAuthenticationException: answered with SASL_AUTHENTICATION_FAILED."""


class SaslServer:
    mechanism = ""

    def __init__(self) -> None:
        self.complete = False
        self.principal: KafkaPrincipal | None = None
        self.lifetime_ms: int | None = None  # a token's remaining life, when it has one

    def evaluate(self, token: bytes) -> bytes:
        raise NotImplementedError


class PlainServer(SaslServer):
    mechanism = "PLAIN"

    def __init__(self, users: dict[str, str]) -> None:
        super().__init__()
        self._users = users

    def evaluate(self, token: bytes) -> bytes:
        parts = token.split(b"\x00")
        if len(parts) != 3:
            raise AuthenticationFailed("Invalid SASL/PLAIN response: expected 3 tokens")
        try:
            authzid, user, password = (part.decode("utf-8") for part in parts)
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid SASL/PLAIN response: not UTF-8") from None
        if not user:
            raise AuthenticationFailed("Authentication failed: username not specified")
        if authzid and authzid != user:
            raise AuthenticationFailed("Authentication failed: Client requested an authorization id "
                                       "that is different from username")
        expected = self._users.get(user)
        # compare_digest even for an unknown user, so timing does not tell who exists
        ok = hmac.compare_digest((expected or "\x00").encode(), password.encode())
        if expected is None or not ok:
            raise AuthenticationFailed("Authentication failed: Invalid username or password")
        self.principal = KafkaPrincipal("User", user)
        self.complete = True
        return b""


class ScramServer(SaslServer):
    def __init__(self, mechanism: str,
                 lookup: Callable[[str, str], ScramCredential | None]) -> None:
        super().__init__()
        self.mechanism = mechanism
        self._lookup = lookup
        self._user: str | None = None
        self._server = scramp.ScramMechanism(mechanism).make_server(self._auth_info)
        self._stage = 0
        self._client_nonce = ""

    def _auth_info(self, user: str) -> tuple[bytes, bytes, bytes, int] | None:
        credential = self._lookup(user, self.mechanism)
        if credential is None:
            return None
        self._user = user
        return credential.salt, credential.stored_key, credential.server_key, credential.iterations

    def evaluate(self, token: bytes) -> bytes:
        failure = (f"Authentication failed during authentication due to invalid credentials with "
                   f"SASL mechanism {self.mechanism}")
        try:
            text = token.decode("utf-8")
            if self._stage == 0:
                self._stage = 1
                self._server.set_client_first(text)
                self._client_nonce = _attribute(text, "r")
                return str(self._server.get_server_first()).encode()
            if self._stage == 1:
                self._stage = 2
                self._tolerate_doubled_nonce(text)
                self._server.set_client_final(text)
                final = str(self._server.get_server_final()).encode()
                self.principal = KafkaPrincipal("User", self._user or "")
                self.complete = True
                return final
        except (UnicodeDecodeError, scramp.ScramException, ValueError, KeyError) as exc:
            log.debug("SCRAM exchange failed: %s", exc)
            raise AuthenticationFailed(failure) from None
        raise AuthenticationFailed(f"Unexpected SASL token after the {self.mechanism} exchange ended")

    def _tolerate_doubled_nonce(self, client_final: str) -> None:
        """librdkafka before 2.6.1 (Debian's kcat among them) sends the client nonce twice:
        r=<client nonce><client nonce + server nonce> (librdkafka#4895). Kafka 3.8.1-3.9
        accepted a nonce that ends with the server's; so does Fjord. The server nonce is
        still required, so a replayed proof still fails, and the proof is checked over the
        message exactly as the client sent it."""
        sent = _attribute(client_final, "r")
        expected = str(self._server.nonce)
        if sent != expected and sent == self._client_nonce + expected:
            self._server.nonce = scramp.core.Nonce(sent)


def _attribute(message: str, name: str) -> str:
    for part in message.split(","):
        if part.startswith(name + "="):
            return part[len(name) + 1:]
    return ""


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class OAuthBearerServer(SaslServer):
    """RFC 7628 client response `n,,\\x01auth=Bearer <jws>\\x01\\x01`.

    Tokens are checked by `validate` (unsecured JWS as Kafka's default validator, or a
    signed one against a JWKS); it returns the claims or raises AuthenticationFailed.
    """

    mechanism = "OAUTHBEARER"

    def __init__(self, validate: Callable[[str], dict[str, Any]], subject_claim: str = "sub") -> None:
        super().__init__()
        self._validate = validate
        self._subject_claim = subject_claim

    def evaluate(self, token: bytes) -> bytes:
        try:
            text = token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid OAUTHBEARER client response: not UTF-8") from None
        if text == "\x01":
            raise AuthenticationFailed("Authentication failed: invalid token")
        gs2, _, rest = text.partition("\x01")
        if not gs2.startswith(("n,", "y,")):
            raise AuthenticationFailed("Invalid OAUTHBEARER client response: bad GS2 header")
        fields = dict(item.split("=", 1) for item in rest.split("\x01") if "=" in item)
        auth = fields.get("auth", "")
        if not auth.lower().startswith("bearer "):
            raise AuthenticationFailed("Invalid OAUTHBEARER client response: no Bearer token")
        claims = self._validate(auth[7:].strip())
        subject = claims.get(self._subject_claim)
        if not isinstance(subject, str) or not subject:
            raise AuthenticationFailed(f"Authentication failed: the token has no "
                                       f"'{self._subject_claim}' claim")
        expires = claims.get("exp")
        if isinstance(expires, int | float):
            self.lifetime_ms = max(0, int(expires * 1000 - time.time() * 1000))
        self.principal = KafkaPrincipal("User", subject)
        self.complete = True
        return b""


def split_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """(header, claims, signing input, signature) of a compact JWS; raises AuthenticationFailed."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthenticationFailed("Authentication failed: the token is not a compact JWS")
    try:
        header = json.loads(_b64url(parts[0]))
        claims = json.loads(_b64url(parts[1]))
        signature = _b64url(parts[2])
    except (ValueError, binascii.Error):
        raise AuthenticationFailed("Authentication failed: the token cannot be decoded") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthenticationFailed("Authentication failed: the token cannot be decoded")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def check_time_claims(claims: dict[str, Any], skew_s: int) -> None:
    now = time.time()
    expires = claims.get("exp")
    if not isinstance(expires, int | float):
        raise AuthenticationFailed("Authentication failed: the token has no 'exp' claim")
    if expires + skew_s < now:
        raise AuthenticationFailed("Authentication failed: the token expired")
    issued = claims.get("iat")
    if isinstance(issued, int | float) and issued - skew_s > now:
        raise AuthenticationFailed("Authentication failed: the token is issued in the future")


def unsecured_validator(skew_s: int) -> Callable[[str], dict[str, Any]]:
    """Kafka's OAuthBearerUnsecuredValidatorCallbackHandler: alg=none, exp checked."""

    def validate(token: str) -> dict[str, Any]:
        header, claims, _, _ = split_jws(token)
        if header.get("alg") != "none":
            raise AuthenticationFailed("Authentication failed: only unsecured tokens (alg=none) are "
                                       "accepted; set sasl.oauthbearer.jwks.endpoint.url for signed ones")
        check_time_claims(claims, skew_s)
        return claims

    return validate
