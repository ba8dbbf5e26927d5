"""What a handler gets besides its request: the broker and the request's header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState


@dataclass(slots=True)
class RequestContext:
    broker: BrokerState
    api_version: int
    correlation_id: int
    client_id: str | None
    client_host: str
    connection_id: int
