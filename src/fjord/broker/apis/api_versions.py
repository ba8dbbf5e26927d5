"""ApiVersions (18): the versions every registered handler serves.

Versions: v0-v4

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: flexible versions; client_software_name/version (KIP-511), supported and finalized
  features - none are reported (no feature flags on one node)
* v4: same as v3 (UNSUPPORTED_VERSION answered with v0 regardless)

Its response always uses header v0 (KIP-511); the server answers an unsupported
ApiVersions version with v0 and UNSUPPORTED_VERSION so the client can retry lower.
"""

from __future__ import annotations

from typing import Any

from fjord.broker.context import RequestContext
from fjord.broker.registry import APIS, api


def supported_apis() -> list[dict[str, int]]:
    return [
        {"api_key": a.key, "min_version": a.advertised_min, "max_version": a.max_version}
        for a in sorted(APIS.values(), key=lambda a: a.key)
    ]


@api(18, "ApiVersions", 0, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    return {"error_code": 0, "api_keys": supported_apis()}
