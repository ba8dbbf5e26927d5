"""DescribeUserScramCredentials (50) / AlterUserScramCredentials (51), KIP-554.

DescribeUserScramCredentials versions: v0-v0
AlterUserScramCredentials versions: v0-v0

Version notes:
* v0 of both: the only versions (KIP-554); flexible

Per-user answers with Kafka's codes: RESOURCE_NOT_FOUND for a user without credentials,
DUPLICATE_RESOURCE for a user named twice, UNSUPPORTED_SASL_MECHANISM, and
UNACCEPTABLE_CREDENTIAL for an empty name or iterations outside 4096-16384. Describing
needs DESCRIBE on the cluster, altering ALTER. Only salted keys are stored.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.security.acls import CLUSTER_NAME, Op, ResourceType
from fjord.security.scram import BY_CODE, MAX_ITERATIONS, MIN_ITERATIONS, credential_from_salted

log = logging.getLogger("fjord.security")


@api(50, "DescribeUserScramCredentials", 0, 0)
async def describe(ctx: RequestContext, request: Any) -> dict[str, Any]:
    if not ctx.allowed(Op.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"error_code": ErrorCode.cluster_authorization_failed, "error_message": None,
                "results": []}
    credentials = ctx.broker.security.scram
    by_user: dict[str, list[dict[str, int]]] = {}
    for (user, mechanism), credential in sorted(credentials.items()):
        code = next(c for c, name in BY_CODE.items() if name == mechanism)
        by_user.setdefault(user, []).append({"mechanism": code, "iterations": credential.iterations})
    # null or empty: every user (Kafka does so; librdkafka sends an empty list for "all")
    names = list(by_user) if not request.users else [item.name for item in request.users]
    counts = Counter(names)
    results: list[dict[str, Any]] = []
    for name in dict.fromkeys(names):
        if counts[name] > 1:
            results.append({"user": name, "error_code": ErrorCode.duplicate_resource,
                            "error_message": f"Cannot describe SCRAM credentials for the same user "
                                             f"twice in a single request: {name}", "credential_infos": []})
        elif name not in by_user:
            results.append({"user": name, "error_code": ErrorCode.resource_not_found,
                            "error_message": f"Attempt to describe a user credential that does not "
                                             f"exist: {name}", "credential_infos": []})
        else:
            results.append({"user": name, "error_code": ErrorCode.none, "error_message": None,
                            "credential_infos": by_user[name]})
    return {"error_code": ErrorCode.none, "error_message": None, "results": results}


@api(51, "AlterUserScramCredentials", 0, 0)
async def alter(ctx: RequestContext, request: Any) -> dict[str, Any]:
    users = [item.name for item in (*request.deletions, *request.upsertions)]
    if not ctx.allowed(Op.ALTER, ResourceType.CLUSTER, CLUSTER_NAME):
        return {"results": [{"user": user, "error_code": ErrorCode.cluster_authorization_failed,
                             "error_message": None} for user in dict.fromkeys(users)]}
    store = ctx.broker.security
    pairs = Counter((item.name, int(item.mechanism)) for item in (*request.deletions, *request.upsertions))
    errors: dict[str, tuple[ErrorCode, str]] = {}

    def fail(user: str, code: ErrorCode, message: str) -> None:
        errors.setdefault(user, (code, message))

    for item in (*request.deletions, *request.upsertions):
        mechanism = BY_CODE.get(int(item.mechanism))
        if not item.name:
            fail(item.name, ErrorCode.unacceptable_credential, "Username must not be empty")
        elif mechanism is None:
            fail(item.name, ErrorCode.unsupported_sasl_mechanism, "Unknown SCRAM mechanism")
        elif pairs[(item.name, int(item.mechanism))] > 1:
            fail(item.name, ErrorCode.duplicate_resource,
                 "A user credential cannot be altered twice in the same request")
    for item in request.deletions:
        mechanism = BY_CODE.get(int(item.mechanism))
        if mechanism is not None and (item.name, mechanism) not in store.scram:
            fail(item.name, ErrorCode.resource_not_found,
                 "Attempt to delete a user credential that does not exist")
    for item in request.upsertions:
        if not MIN_ITERATIONS <= item.iterations <= MAX_ITERATIONS:
            fail(item.name, ErrorCode.unacceptable_credential,
                 f"Iterations {item.iterations} not between {MIN_ITERATIONS} and {MAX_ITERATIONS}")
        elif not item.salt or not item.salted_password:
            fail(item.name, ErrorCode.unacceptable_credential, "Salt and password must not be empty")
    changed = False
    for item in request.deletions:
        if item.name not in errors:
            store.scram.pop((item.name, BY_CODE[int(item.mechanism)]), None)
            changed = True
    for item in request.upsertions:
        if item.name not in errors:
            mechanism = BY_CODE[int(item.mechanism)]
            store.scram[(item.name, mechanism)] = credential_from_salted(
                mechanism, bytes(item.salt), bytes(item.salted_password), int(item.iterations))
            changed = True
    if changed:
        store.save()
        log.info("%s altered SCRAM credentials of %s", ctx.session.principal,
                 ",".join(sorted(set(users) - set(errors))))
    return {"results": [
        {"user": user, "error_code": errors.get(user, (ErrorCode.none, None))[0],
         "error_message": errors.get(user, (ErrorCode.none, None))[1]}
        for user in dict.fromkeys(users)]}
