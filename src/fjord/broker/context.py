"""What a handler gets besides its request: the broker and the request's header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState
    from fjord.security.session import Session


@dataclass(slots=True)
class RequestContext:
    broker: BrokerState
    api_version: int
    correlation_id: int
    client_id: str | None
    client_host: str
    connection_id: int
    session: Session  # who is asking, through which listener
    api_name: str = ""

    @property
    def endpoint(self) -> tuple[str, int]:
        """The advertised host and port of the listener this request came through."""
        return self.session.listener.advertised

    def record_quota(self, kind: str, amount: int) -> int:
        """Count bytes against the client's quota; the throttle ms, and the connection muted."""
        principal = self.session.principal
        user = principal.name if principal.type == "User" else ""
        throttle = self.broker.quotas.record(kind, user, self.client_id or "", amount)
        self.session.mute_ms = max(self.session.mute_ms, throttle)
        return throttle

    def allowed(self, op: int, resource_type: int, name: str, log_denied: bool = True) -> bool:
        """Whether the authorizer lets this request's principal do op on the resource."""
        authorizer = self.broker.authorizer
        return authorizer is None or authorizer.authorize(
            self.session.principal, self.client_host, op, resource_type, name, self.api_name, log_denied)
