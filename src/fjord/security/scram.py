"""SCRAM credentials the way Kafka keeps them (RFC 5802: salt, StoredKey, ServerKey,
iterations), and the server side of a SCRAM exchange through `scramp`.

AlterUserScramCredentials sends a salted password (the client salts, KIP-554), so the
broker never sees a password: it derives the two keys and throws the salted password away.
"""

from __future__ import annotations

import hashlib
import hmac

from fjord.metadata.security import ScramCredential

MECHANISMS = {"SCRAM-SHA-256": (1, "sha256"), "SCRAM-SHA-512": (2, "sha512")}
BY_CODE = {code: name for name, (code, _) in MECHANISMS.items()}
MIN_ITERATIONS, MAX_ITERATIONS = 4096, 16384


def credential_from_salted(mechanism: str, salt: bytes, salted_password: bytes,
                           iterations: int) -> ScramCredential:
    digest = MECHANISMS[mechanism][1]
    client_key = hmac.new(salted_password, b"Client Key", digest).digest()
    stored_key = hashlib.new(digest, client_key).digest()
    server_key = hmac.new(salted_password, b"Server Key", digest).digest()
    return ScramCredential(salt, stored_key, server_key, iterations)


def credential_from_password(mechanism: str, password: str, iterations: int = 4096,
                             salt: bytes | None = None) -> ScramCredential:
    import os

    salt = salt if salt is not None else os.urandom(32)
    digest = MECHANISMS[mechanism][1]
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, iterations)
    return credential_from_salted(mechanism, salt, salted, iterations)
