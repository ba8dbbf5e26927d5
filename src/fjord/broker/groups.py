"""What the group APIs share: the coordinator attached to the broker, and small conversions."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from fjord.coordinator.groups import GroupCoordinator

if TYPE_CHECKING:
    from fjord.broker.context import RequestContext

SERVICE = "groups"


def coordinator(ctx: RequestContext) -> GroupCoordinator:
    found = ctx.broker.services.get(SERVICE)
    if not isinstance(found, GroupCoordinator):
        raise RuntimeError("the broker has no group coordinator attached")
    return found


def millis(value: datetime.timedelta | int) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)
