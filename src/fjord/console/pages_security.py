"""ACLs and SCRAM users of a cluster (the broker's own authorizer and credential store)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fjord.console import security
from fjord.console.topics import ConsoleError
from fjord.console.web import Console, back, page


def router(console: Console) -> APIRouter:
    r = APIRouter()

    @r.get("/c/{cluster_id}/security", response_class=HTMLResponse, response_model=None)
    def overview(request: Request, cluster_id: str) -> HTMLResponse:
        cluster, clients = console.kafka(cluster_id)
        acls, users, acl_error, user_error = [], [], None, None
        try:
            acls = security.list_acls(clients.admin)
        except ConsoleError as exc:
            acl_error = str(exc)
        try:
            users = security.list_users(clients.admin, [u for u in [request.query_params.get("user")] if u])
        except ConsoleError as exc:
            user_error = str(exc)
        return page(
            request,
            "security.html",
            cluster=cluster,
            acls=acls,
            users=users,
            acl_error=acl_error,
            user_error=user_error,
            resource_types=security.RESOURCE_TYPES,
            pattern_types=security.PATTERN_TYPES,
            operations=security.OPERATIONS,
            permissions=security.PERMISSIONS,
        )

    @r.post("/c/{cluster_id}/acls", response_model=None)
    def change_acl(
        cluster_id: str,
        principal: str = Form(...),
        host: str = Form("*"),
        resource_type: str = Form(...),
        name: str = Form(...),
        pattern: str = Form("LITERAL"),
        operation: str = Form(...),
        permission: str = Form("ALLOW"),
        delete: str = Form(""),
    ) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        acl = {
            "principal": principal.strip(),
            "host": host.strip(),
            "resource_type": resource_type,
            "name": name.strip(),
            "pattern": pattern,
            "operation": operation,
            "permission": permission,
        }
        try:
            if delete:
                removed = security.delete_acl(clients.admin, acl)
                return back(f"/c/{cluster_id}/security", notice=f"{removed} ACL(s) deleted")
            security.create_acl(clients.admin, acl)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/security", error=str(exc))
        return back(
            f"/c/{cluster_id}/security",
            notice=f"ACL created: {principal} {permission} {operation} on {resource_type} {name}",
        )

    @r.post("/c/{cluster_id}/users", response_model=None)
    def change_user(
        cluster_id: str,
        user: str = Form(...),
        password: str = Form(""),
        mechanism: str = Form("SCRAM_SHA_256"),
        delete: str = Form(""),
    ) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        try:
            if delete:
                security.delete_user(clients.admin, user.strip(), mechanism)
            else:
                security.upsert_user(clients.admin, user.strip(), password, mechanism)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/security", error=str(exc))
        return back(
            f"/c/{cluster_id}/security?user={quote(user.strip())}",
            notice=f"user {user} {'deleted' if delete else 'saved'}",
        )

    return r
