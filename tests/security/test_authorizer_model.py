"""The authorizer against a small reference model of Kafka's rules, over random ACL sets
and requests (hypothesis). The model is written from Kafka's documentation, as plainly as
possible, and shares no code with fjord.security.authorizer."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fjord.config.broker import BrokerConfig
from fjord.metadata.security import AclBinding, SecurityMetadata
from fjord.metadata.store import MetadataStore
from fjord.security.authorizer import Authorizer
from fjord.security.principal import KafkaPrincipal

TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE = 2, 3, 4, 5, 6, 7, 8
DESCRIBE_CONFIGS, ALTER_CONFIGS = 10, 11
DENY, ALLOW = 2, 3
OPS = [ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]
NAMES = ["a", "ab", "abc", "b", "*"]
PRINCIPALS = ["User:alice", "User:bob", "User:*", "User:admin"]
HOSTS = ["*", "10.0.0.1", "10.0.0.2"]

acl_strategy = st.builds(
    AclBinding, st.sampled_from([TOPIC, GROUP]), st.sampled_from(NAMES), st.sampled_from([LITERAL, PREFIXED]),
    st.sampled_from(PRINCIPALS), st.sampled_from(HOSTS), st.sampled_from(OPS), st.sampled_from([DENY, ALLOW]))


_STORES: list[SecurityMetadata] = []


def model(acls: set[AclBinding], principal: str, host: str, op: int, rtype: int, name: str,
          supers: set[str], allow_if_none: bool) -> bool:
    if principal in supers:
        return True

    def on_resource(acl: AclBinding) -> bool:
        if acl.resource_type != rtype:
            return False
        if acl.pattern_type == LITERAL:
            return acl.resource_name == name or acl.resource_name == "*"
        return name.startswith(acl.resource_name)

    relevant = [acl for acl in acls if on_resource(acl)]
    if not relevant:
        return allow_if_none
    mine = [acl for acl in relevant
            if acl.principal in (principal, "User:*") and acl.host in (host, "*")]
    if any(acl.permission == DENY and acl.operation in (op, ALL) for acl in mine):
        return False
    implied = {op, ALL}
    if op == DESCRIBE:
        implied |= {READ, WRITE, DELETE, ALTER}
    if op == DESCRIBE_CONFIGS:
        implied |= {ALTER_CONFIGS}
    return any(acl.permission == ALLOW and acl.operation in implied for acl in mine)


@settings(max_examples=200, deadline=None)
@given(acls=st.sets(acl_strategy, max_size=12),
       requests=st.lists(st.tuples(st.sampled_from(["User:alice", "User:bob", "User:admin"]),
                                   st.sampled_from(HOSTS[1:]), st.sampled_from(OPS[1:]),
                                   st.sampled_from([TOPIC, GROUP]),
                                   st.sampled_from(["a", "ab", "abc", "b", "c"])),
                         min_size=1, max_size=20),
       allow_if_none=st.booleans())
def test_authorizer_matches_model(tmp_path_factory, acls, requests, allow_if_none) -> None:  # type: ignore[no-untyped-def]
    if not _STORES:
        _STORES.append(SecurityMetadata(MetadataStore([tmp_path_factory.mktemp("meta")])))
    store = _STORES[0]  # only its in-memory ACL set is used: nothing is saved
    store.acls = set(acls)
    config = BrokerConfig({
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin", "allow.everyone.if.no.acl.found": str(allow_if_none).lower()})
    authorizer = Authorizer(config, store)
    for principal, host, op, rtype, name in requests:
        kind, _, user = principal.partition(":")
        got = authorizer.decide(KafkaPrincipal(kind, user), host, op, rtype, name)
        want = model(acls, principal, host, op, rtype, name, {"User:admin"}, allow_if_none)
        assert got == want, (principal, host, op, rtype, name, sorted(map(str, acls)))
