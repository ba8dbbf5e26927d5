"""Where each API module registers the versions it serves.

The ApiVersions answer is built from these registrations (the franz-go kfake model), so
advertising a version and handling it can never drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fjord.broker.context import RequestContext

Handler = Callable[["RequestContext", Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Api:
    key: int
    name: str
    min_version: int  # lowest version actually handled
    max_version: int
    handler: Handler
    advertised_min: int  # may be lower than min_version (KAFKA-18659: librdkafka needs 0)


APIS: dict[int, Api] = {}


def api(key: int, name: str, min_version: int, max_version: int,
        advertised_min: int | None = None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if key in APIS:
            raise RuntimeError(f"API {key} registered twice")
        APIS[key] = Api(key, name, min_version, max_version, handler,
                        min_version if advertised_min is None else advertised_min)
        return handler

    return register
