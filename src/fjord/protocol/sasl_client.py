"""The client side of SASL PLAIN and SCRAM-SHA-256/512, as tokens in and out.

Fjord's own small Kafka clients (Connect's group membership) speak the protocol by hand,
so they authenticate by hand too: SaslHandshake v1, then one SaslAuthenticate per token
this produces. No network here; the caller sends and receives.
"""

from __future__ import annotations

import scramp


class SaslClientError(Exception):
    pass


class SaslClient:
    def __init__(self, mechanism: str, username: str, password: str) -> None:
        self.mechanism = mechanism.upper()
        self._username, self._password = username, password
        self._scram: scramp.ScramClient | None = None
        self._step = 0
        if self.mechanism.startswith("SCRAM-"):
            self._scram = scramp.ScramClient([self.mechanism], username, password)
        elif self.mechanism != "PLAIN":
            raise SaslClientError(f"sasl.mechanism {mechanism} is not supported here: use PLAIN or SCRAM")

    def first(self) -> bytes:
        if self._scram is None:
            return b"\0" + self._username.encode() + b"\0" + self._password.encode()
        return self._scram.get_client_first().encode()

    def respond(self, server: bytes) -> bytes | None:
        """The next token for the server's answer; None when the exchange is complete."""
        self._step += 1
        if self._scram is None:
            return None
        try:
            if self._step == 1:
                self._scram.set_server_first(server.decode())
                return self._scram.get_client_final().encode()
            self._scram.set_server_final(server.decode())  # checks the server's signature
        except (scramp.ScramException, UnicodeDecodeError) as exc:
            raise SaslClientError(f"SCRAM exchange failed: {exc}") from None
        return None
