"""What the group APIs share: the coordinator attached to the broker, and small conversions."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from fjord.coordinator.groups import GroupCoordinator

if TYPE_CHECKING:
    from fjord.broker.context import RequestContext


def coordinator(ctx: RequestContext) -> GroupCoordinator:
    return ctx.broker.groups


def millis(value: datetime.timedelta | int) -> int:
    if isinstance(value, datetime.timedelta):
        return int(value.total_seconds() * 1000)
    return int(value)
