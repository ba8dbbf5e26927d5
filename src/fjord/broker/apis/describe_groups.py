"""DescribeGroups (15): state, protocol and members of groups.

Versions: v0-v6

Version notes:
* v1: throttle_time_ms
* v2: same as v1
* v3: include_authorized_operations (INT32_MIN when not asked for)
* v4: group_instance_id of static members
* v5: flexible versions
* v6: GROUP_ID_NOT_FOUND and error_message for an unknown group (KIP-1043)

Authorized operations are INT32_MIN unless asked for (kafka-python breaks on anything else);
with no ACLs yet, asking gets every group operation. Member metadata and assignments are
only shown while the group is Stable, as Kafka shows them. v6 answers GROUP_ID_NOT_FOUND
for an unknown group; older versions answer it as Dead.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.groups import coordinator
from fjord.broker.registry import api
from fjord.coordinator.groups import GroupState
from fjord.security.acls import Op, ResourceType

NOT_REQUESTED = -(2**31)
GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8)  # READ, DELETE, DESCRIBE


@api(15, "DescribeGroups", 0, 6)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    groups = coordinator(ctx)
    wanted_ops = getattr(request, "include_authorized_operations", False)
    operations = GROUP_OPERATIONS if wanted_ops else NOT_REQUESTED
    described = []
    for group_id in request.groups:
        if ctx.broker.authorizer is not None:
            if not ctx.allowed(Op.DESCRIBE, ResourceType.GROUP, group_id):
                described.append({"error_code": ErrorCode.group_authorization_failed, "group_id": group_id,
                                  "group_state": "", "protocol_type": "", "protocol_data": "",
                                  "members": [], "authorized_operations": NOT_REQUESTED})
                continue
            if wanted_ops:
                operations = ctx.broker.authorizer.operations(
                    ctx.session.principal, ctx.client_host, ResourceType.GROUP, group_id)
        live = groups.consumer.describe(group_id)
        if live is not None:
            described.append({**live, "authorized_operations": operations})
            continue
        group = groups.groups.get(group_id)
        if group is None:
            entry: dict[str, Any] = {"error_code": ErrorCode.none, "group_id": group_id,
                                     "group_state": GroupState.DEAD.value, "protocol_type": "",
                                     "protocol_data": "", "members": [],
                                     "authorized_operations": operations}
            if ctx.api_version >= 6:
                entry["error_code"] = ErrorCode.group_id_not_found
                entry["error_message"] = f"Group {group_id} not found."
            described.append(entry)
            continue
        stable = group.state == GroupState.STABLE
        described.append({
            "error_code": ErrorCode.none, "group_id": group_id, "group_state": group.state.value,
            "protocol_type": group.protocol_type or "",
            "protocol_data": (group.protocol or "") if stable else "",
            "members": [
                {"member_id": m.member_id, "group_instance_id": m.instance_id,
                 "client_id": m.client_id, "client_host": m.client_host,
                 "member_metadata": m.metadata(group.protocol) if stable else b"",
                 "member_assignment": m.assignment if stable else b""}
                for m in group.members.values()
            ],
            "authorized_operations": operations,
        })
    return {"groups": described}
