"""OAUTHBEARER tokens signed by an identity provider, checked against its JWKS, as Kafka's
`sasl.oauthbearer.jwks.endpoint.url` does: a `file://` path or an `http(s)://` URL, keys
picked by `kid`, RS256/384/512 and ES256/384/512, `exp`/`iat` with the clock skew, and the
expected audience and issuer when configured. Keys are re-read (at most every 30 s) when a
token names a key id that is not known yet, so a provider's key rotation just works.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fjord.config.definitions import ConfigError
from fjord.security.sasl import AuthenticationFailed, check_time_claims, split_jws

log = logging.getLogger("fjord.security")

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512,
    "ES256": hashes.SHA256, "ES384": hashes.SHA384, "ES512": hashes.SHA512}
_CURVES: dict[str, ec.EllipticCurve] = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1(),
                                        "P-521": ec.SECP521R1()}
REFRESH_S = 30.0


def _int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _public_key(jwk: dict[str, Any]) -> Any:
    if jwk.get("kty") == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if jwk.get("kty") == "EC" and jwk.get("crv") in _CURVES:
        return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]),
                                             _CURVES[jwk["crv"]]).public_key()
    return None


def _fetch(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return json.loads(Path(parsed.path).read_text())  # type: ignore[no-any-return]
    import httpx

    response = httpx.get(url, timeout=10)
    response.raise_for_status()
    return response.json()  # type: ignore[no-any-return]


class JwksKeys:
    def __init__(self, url: str) -> None:
        if urlparse(url).scheme not in ("file", "http", "https"):
            raise ConfigError(f"sasl.oauthbearer.jwks.endpoint.url={url}: use file://, http:// or https://")
        self.url = url
        self._keys: dict[str | None, Any] = {}
        self._read_at = 0.0
        self._lock = threading.Lock()
        try:
            self._refresh()
        except (OSError, ValueError, KeyError) as exc:
            log.warning("cannot read the JWKS at %s yet: %s", url, exc)

    def _refresh(self) -> None:
        self._read_at = time.monotonic()
        document = _fetch(self.url)
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("use", "sig") != "sig":
                continue
            key = _public_key(jwk)
            if key is not None:
                keys[jwk.get("kid")] = key
        self._keys = keys

    def key(self, kid: str | None) -> Any:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._read_at > REFRESH_S:
                try:
                    self._refresh()
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("cannot refresh the JWKS at %s: %s", self.url, exc)
            if kid in self._keys:
                return self._keys[kid]
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
        return None


def _verify(key: Any, alg: str, data: bytes, signature: bytes) -> bool:
    digest = _HASHES[alg]()
    try:
        if alg.startswith("RS") and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), digest)
            return True
        if alg.startswith("ES") and isinstance(key, ec.EllipticCurvePublicKey):
            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                       int.from_bytes(signature[half:], "big"))
            key.verify(der, data, ec.ECDSA(digest))
            return True
    except InvalidSignature:
        return False
    return False


def jwks_validator(url: str, skew_s: int, audience: list[str] | None, issuer: str | None
                   ) -> Callable[[str], dict[str, Any]]:
    keys = JwksKeys(url)

    def validate(token: str) -> dict[str, Any]:
        header, claims, signed, signature = split_jws(token)
        alg = header.get("alg")
        if alg not in _HASHES:
            raise AuthenticationFailed(f"Authentication failed: token algorithm {alg!r} is not accepted")
        key = keys.key(header.get("kid"))
        if key is None:
            raise AuthenticationFailed("Authentication failed: the token's signing key is not in the JWKS")
        if not _verify(key, str(alg), signed, signature):
            raise AuthenticationFailed("Authentication failed: the token signature is invalid")
        check_time_claims(claims, skew_s)
        if audience:
            got = claims.get("aud")
            got_list = got if isinstance(got, list) else [got]
            if not set(audience) & set(got_list):
                raise AuthenticationFailed("Authentication failed: the token's audience is not expected")
        if issuer and claims.get("iss") != issuer:
            raise AuthenticationFailed("Authentication failed: the token's issuer is not expected")
        return claims

    return validate
