"""Exact requests against a real broker: Kafka's error codes for bad input, and the group
keeps working for its other members."""

from __future__ import annotations

from confluent_kafka.admin import AdminClient, NewTopic

from tests.coordinator.wire import Wire, commit, heartbeat, join, join_and_sync
from tests.support.broker import BrokerFactory, BrokerProcess

NONE, OFFSET_METADATA_TOO_LARGE, ILLEGAL_GENERATION, INCONSISTENT_GROUP_PROTOCOL = 0, 12, 22, 23
UNKNOWN_MEMBER_ID, INVALID_SESSION_TIMEOUT, REBALANCE_IN_PROGRESS = 25, 26, 27
GROUP_SUBSCRIBED_TO_TOPIC, GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP = 86, 69, 68
MEMBER_ID_REQUIRED, GROUP_MAX_SIZE_REACHED, FENCED_INSTANCE_ID = 79, 81, 82
UNKNOWN_TOPIC_OR_PARTITION = 3
INT32_MIN = -(2**31)
OFFSET_DELETE_T0 = {"group_id": "g", "topics": [{"name": "t", "partitions": [{"partition_index": 0}]}]}


def _topic(broker: BrokerProcess, name: str = "t", partitions: int = 2) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def test_bad_members_get_kafka_errors_and_the_group_keeps_working(broker: BrokerProcess) -> None:
    _topic(broker)
    wire = Wire(broker.bootstrap)
    first = join(wire, "g")
    assert first.error_code.value == MEMBER_ID_REQUIRED and first.member_id
    member, generation = join_and_sync(wire, "g", member_id=first.member_id)
    assert (member, generation) == (first.member_id, 1)

    assert heartbeat(wire, "g", "nobody", generation) == UNKNOWN_MEMBER_ID
    assert heartbeat(wire, "g", member, generation + 7) == ILLEGAL_GENERATION
    assert heartbeat(wire, "no-such-group", member, generation) == UNKNOWN_MEMBER_ID
    assert commit(wire, "g", member, generation - 1, {("t", 0): 1}) == {("t", 0): ILLEGAL_GENERATION}
    assert commit(wire, "g", "nobody", generation, {("t", 0): 1}) == {("t", 0): UNKNOWN_MEMBER_ID}
    assert commit(wire, "g", "", -1, {("t", 0): 1}) == {("t", 0): UNKNOWN_MEMBER_ID}, \
        "a simple commit must be refused while the group has members"
    assert commit(wire, "g", member, generation, {("t", 0): 1}, metadata="m" * 5000) == \
        {("t", 0): OFFSET_METADATA_TOO_LARGE}
    assert commit(wire, "g", member, generation, {("nope", 0): 1, ("t", 9): 1}) == \
        {("nope", 0): UNKNOWN_TOPIC_OR_PARTITION, ("t", 9): UNKNOWN_TOPIC_OR_PARTITION}
    other = Wire(broker.bootstrap)
    bad = join(other, "g", protocol_type="connect")
    assert bad.error_code.value == INCONSISTENT_GROUP_PROTOCOL
    assert join(other, "g", session_ms=1000).error_code.value == INVALID_SESSION_TIMEOUT
    assert join(other, "g", member_id="made-up").error_code.value == UNKNOWN_MEMBER_ID

    # None of that disturbed the member.
    assert heartbeat(wire, "g", member, generation) == NONE
    assert commit(wire, "g", member, generation, {("t", 0): 1, ("t", 1): 0}) == \
        {("t", 0): NONE, ("t", 1): NONE}
    fetched = wire.call(9, 7, {"group_id": "g", "topics": None})  # null: all topics of the group
    assert {(t.name, p.partition_index): p.committed_offset for t in fetched.topics
            for p in t.partitions} == {("t", 0): 1, ("t", 1): 0}
    batched = wire.call(9, 8, {"groups": [
        {"group_id": "g", "topics": [{"name": "t", "partition_indexes": [0, 1]}]},
        {"group_id": "other", "topics": None}]})
    assert [[p.committed_offset for t in g.topics for p in t.partitions] for g in batched.groups] == \
        [[1, 0], []]

    described = wire.call(15, 5, {"groups": ["g", "missing"], "include_authorized_operations": False})
    live, missing = described.groups
    assert (live.group_state, live.protocol_data, len(live.members)) == ("Stable", "range", 1)
    assert live.authorized_operations == INT32_MIN
    assert (missing.group_state, missing.error_code.value) == ("Dead", NONE)
    v6 = wire.call(15, 6, {"groups": ["missing"], "include_authorized_operations": False})
    assert v6.groups[0].error_code.value == GROUP_ID_NOT_FOUND

    deleted = wire.call(47, 0, OFFSET_DELETE_T0)
    assert deleted.topics[0].partitions[0].error_code.value == GROUP_SUBSCRIBED_TO_TOPIC
    refused = wire.call(42, 2, {"groups_names": ["g", "missing"]})
    assert [r.error_code.value for r in refused.results] == [NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND]

    listed = wire.call(16, 4, {"states_filter": ["Stable"]})
    assert [(g.group_id, g.group_state) for g in listed.groups] == [("g", "Stable")]
    assert wire.call(16, 4, {"states_filter": ["Empty"]}).groups == ()

    left = wire.call(13, 5, {"group_id": "g", "members": [{"member_id": member}, {"member_id": "ghost"}]})
    assert [m.error_code.value for m in left.members] == [NONE, UNKNOWN_MEMBER_ID]
    assert heartbeat(wire, "g", member, generation) == UNKNOWN_MEMBER_ID
    emptied = wire.call(16, 4, {"states_filter": ["Empty"]})
    assert [g.group_id for g in emptied.groups] == ["g"]
    deleted = wire.call(47, 0, OFFSET_DELETE_T0)
    assert deleted.topics[0].partitions[0].error_code.value == NONE
    fetched = wire.call(9, 7, {"group_id": "g", "topics": None})
    assert [(t.name, p.partition_index) for t in fetched.topics for p in t.partitions] == [("t", 1)]
    assert [r.error_code.value for r in wire.call(42, 2, {"groups_names": ["g"]}).results] == [NONE]
    assert wire.call(9, 7, {"group_id": "g", "topics": None}).topics == ()


def test_static_member_restart_fences_the_old_instance(broker: BrokerProcess) -> None:
    _topic(broker)
    old_conn, new_conn = Wire(broker.bootstrap), Wire(broker.bootstrap)
    old, generation = join_and_sync(old_conn, "s", instance="app-1")
    assert old.startswith("app-1-")
    # The same group.instance.id comes back with no member id (a restarted process).
    new, new_generation = join_and_sync(new_conn, "s", instance="app-1")
    assert new != old
    assert heartbeat(old_conn, "s", old, new_generation, instance="app-1") == FENCED_INSTANCE_ID
    assert commit(old_conn, "s", old, new_generation, {("t", 0): 5}, instance="app-1") == \
        {("t", 0): FENCED_INSTANCE_ID}
    assert heartbeat(new_conn, "s", new, new_generation, instance="app-1") == NONE
    assert commit(new_conn, "s", new, new_generation, {("t", 0): 5}, instance="app-1") == {("t", 0): NONE}
    left = old_conn.call(13, 5, {"group_id": "s",
                                 "members": [{"member_id": old, "group_instance_id": "app-1"}]})
    assert left.members[0].error_code.value == FENCED_INSTANCE_ID
    assert generation <= new_generation


def test_group_max_size(broker_factory: BrokerFactory) -> None:
    broker = broker_factory({"group.max.size": "1"})
    _topic(broker)
    join_and_sync(Wire(broker.bootstrap), "small")
    assert join(Wire(broker.bootstrap), "small").error_code.value == GROUP_MAX_SIZE_REACHED


def test_find_coordinator_batched_and_single(broker: BrokerProcess) -> None:
    wire = Wire(broker.bootstrap)
    single = wire.call(10, 3, {"key": "g", "key_type": 0})
    assert (single.error_code.value, single.node_id, single.port) == (NONE, 1, broker.port)
    batched = wire.call(10, 4, {"key_type": 0, "coordinator_keys": ["a", "b"]})
    assert [(c.key, c.port, c.error_code.value) for c in batched.coordinators] == \
        [("a", broker.port, NONE), ("b", broker.port, NONE)]


def test_acknowledged_commits_survive_kill_9(broker: BrokerProcess) -> None:
    _topic(broker)
    wire = Wire(broker.bootstrap)
    for offset in range(1, 21):  # many commits of the same key: replay must keep the last
        assert commit(wire, "k9", "", -1, {("t", 0): offset, ("t", 1): offset * 2}) == \
            {("t", 0): NONE, ("t", 1): NONE}
    wire.close()
    broker.kill()
    broker.start()
    wire = Wire(broker.bootstrap)
    fetched = wire.call(9, 7, {"group_id": "k9", "topics": None})
    assert {(t.name, p.partition_index): p.committed_offset for t in fetched.topics
            for p in t.partitions} == {("t", 0): 20, ("t", 1): 40}
    listed = wire.call(16, 4, {"states_filter": []})
    assert [(g.group_id, g.group_state) for g in listed.groups] == [("k9", "Empty")]
    metadata = wire.call(3, 12, {"topics": None, "include_topic_authorized_operations": False})
    internal = [t for t in metadata.topics if t.name == "__consumer_offsets"]
    assert internal and internal[0].is_internal and len(internal[0].partitions) == 50
