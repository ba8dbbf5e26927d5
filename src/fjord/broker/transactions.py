"""What the transaction APIs share: the coordinator attached to the broker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fjord.coordinator.transactions import TransactionCoordinator

if TYPE_CHECKING:
    from fjord.broker.context import RequestContext

SERVICE = "transactions"


def txn_coordinator(ctx: RequestContext) -> TransactionCoordinator:
    found = ctx.broker.services.get(SERVICE)
    if not isinstance(found, TransactionCoordinator):
        raise RuntimeError("the broker has no transaction coordinator attached")
    return found
