"""DescribeAcls (29), CreateAcls (30), DeleteAcls (31) over the cluster's ACLs.

DescribeAcls versions: v1-v3
CreateAcls versions: v1-v3
DeleteAcls versions: v1-v3

Version notes:
* v0: removed by KIP-896 - not served (v1 added the resource pattern type, KIP-290)
* v2: flexible versions
* v3: the USER resource type (KIP-373, delegation tokens), handled like the others

SECURITY_DISABLED when no authorizer is configured, as in Kafka. Describing needs DESCRIBE
on the cluster, changing needs ALTER. Changes are persisted with the cluster metadata
before they are answered, and the authorizer's tables are rebuilt at once.
"""

from __future__ import annotations

import logging
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.metadata.security import AclBinding
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType, invalid_binding, matches_filter

log = logging.getLogger("fjord.security")
_DISABLED = "No Authorizer is configured."


@api(29, "DescribeAcls", 1, 3)
async def describe(ctx: RequestContext, request: Any) -> dict[str, Any]:
    authorizer = ctx.broker.authorizer
    if authorizer is None:
        return {"error_code": ErrorCode.security_disabled, "error_message": _DISABLED, "resources": []}
    if not ctx.allowed(Op.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
                "resources": []}
    grouped: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
    for acl in ctx.broker.security.acls:
        if matches_filter(acl, request.resource_type_filter, request.resource_name_filter,
                          getattr(request, "pattern_type_filter", 3), request.principal_filter,
                          request.host_filter, request.operation, request.permission_type):
            grouped.setdefault((acl.resource_type, acl.resource_name, acl.pattern_type), []).append(
                {"principal": acl.principal, "host": acl.host, "operation": acl.operation,
                 "permission_type": acl.permission})
    return {"error_code": ErrorCode.none, "error_message": None, "resources": [
        {"resource_type": rtype, "resource_name": name, "pattern_type": pattern, "acls": acls}
        for (rtype, name, pattern), acls in sorted(grouped.items())
    ]}


@api(30, "CreateAcls", 1, 3)
async def create(ctx: RequestContext, request: Any) -> dict[str, Any]:
    authorizer = ctx.broker.authorizer
    if authorizer is None:
        return {"results": [{"error_code": ErrorCode.security_disabled, "error_message": _DISABLED}
                            for _ in request.creations]}
    if not ctx.allowed(Op.ALTER, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"results": [{"error_code": ErrorCode.cluster_authorization_failed, "error_message": None}
                            for _ in request.creations]}
    store = ctx.broker.security
    results = []
    added = []
    for item in request.creations:
        acl = AclBinding(int(item.resource_type), item.resource_name,
                         int(getattr(item, "resource_pattern_type", 3)), item.principal, item.host,
                         int(item.operation), int(item.permission_type))
        problem = invalid_binding(acl)
        if problem:
            log.warning("refused ACL from %s: %s", ctx.session.principal, problem)
            results.append({"error_code": ErrorCode.invalid_request, "error_message": problem})
            continue
        if acl not in store.acls:
            store.acls.add(acl)
            added.append(acl)
        results.append({"error_code": ErrorCode.none, "error_message": None})
    if added:
        store.save()
        authorizer.reindex()
        log.info("%s added %d ACL(s)", ctx.session.principal, len(added))
    return {"results": results}


@api(31, "DeleteAcls", 1, 3)
async def delete(ctx: RequestContext, request: Any) -> dict[str, Any]:
    authorizer = ctx.broker.authorizer
    if authorizer is None:
        return {"filter_results": [
            {"error_code": ErrorCode.security_disabled, "error_message": _DISABLED, "matching_acls": []}
            for _ in request.filters]}
    if not ctx.allowed(Op.ALTER, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"filter_results": [
            {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
             "matching_acls": []} for _ in request.filters]}
    store = ctx.broker.security
    results = []
    removed: set[AclBinding] = set()
    for item in request.filters:
        matched = [acl for acl in store.acls if matches_filter(
            acl, item.resource_type_filter, item.resource_name_filter,
            getattr(item, "pattern_type_filter", 3), item.principal_filter, item.host_filter,
            item.operation, item.permission_type)]
        removed.update(matched)
        results.append({"error_code": ErrorCode.none, "error_message": None, "matching_acls": [
            {"error_code": ErrorCode.none, "error_message": None, "resource_type": acl.resource_type,
             "resource_name": acl.resource_name, "pattern_type": acl.pattern_type,
             "principal": acl.principal, "host": acl.host, "operation": acl.operation,
             "permission_type": acl.permission} for acl in matched]})
    if removed:
        store.acls -= removed
        store.save()
        authorizer.reindex()
        log.info("%s removed %d ACL(s)", ctx.session.principal, len(removed))
    return {"filter_results": results}
