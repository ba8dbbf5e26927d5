"""Debezium's PostgreSQL connector against a real PostgreSQL (wal_level=logical), a real broker
and real worker processes: snapshot then changes in commit order in Debezium's envelope; a
SIGKILLed worker and a restarted database lose nothing; the slot moves only after Kafka
acknowledged the records."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connect.support import STARTED, WorkerProcess, wait_until
from tests.connectors.cdc.support import dedupe, read_events
from tests.connectors.support import read_topic
from tests.support.broker import BrokerProcess
from tests.support.postgres import PASSWORD, PostgresServer

CONNECTOR = "io.debezium.connector.postgresql.PostgresConnector"
JSON = "org.apache.kafka.connect.json.JsonConverter"


def connector_config(pg: PostgresServer, db: str, prefix: str, **extra: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    return {"connector.class": CONNECTOR, "database.hostname": "127.0.0.1",
            "database.port": str(pg.port), "database.user": "postgres",
            "database.password": PASSWORD, "database.dbname": db, "topic.prefix": prefix,
            "plugin.name": "pgoutput", "slot.name": f"slot_{tag}",
            "publication.name": f"pub_{tag}", "poll.interval.ms": "100",
            "errors.retry.delay.initial.ms": "200", "errors.retry.delay.max.ms": "1000", **extra}


def new_worker(broker: BrokerProcess, workdir: Path, files: list[Path] | None = None
               ) -> WorkerProcess:
    return WorkerProcess(workdir, broker.bootstrap, connector_files=files, props={
        "key.converter": JSON, "value.converter": JSON, "offset.flush.interval.ms": "300"})


@pytest.fixture(scope="module")
def worker(db_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[WorkerProcess]:
    w = new_worker(db_broker, tmp_path_factory.mktemp("cdc-worker")).start()
    STARTED.remove(w)
    yield w
    w.stop()


def slot_lsn(pg: PostgresServer, db: str, slot: str) -> int:
    with pg.connect(db) as conn:
        value = conn.execute("SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots "
                             "WHERE slot_name = %s", (slot,)).fetchone()[0]
    return int(value)


def test_snapshot_then_changes_in_commit_order(worker: WorkerProcess, db_broker: BrokerProcess,
                                               postgres_server: PostgresServer) -> None:
    pg = postgres_server
    db = pg.new_database("cdc")
    with pg.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id SERIAL PRIMARY KEY, name TEXT NOT NULL, "
                     "email TEXT, balance NUMERIC(10,2), born DATE, seen TIMESTAMP, "
                     "zoned TIMESTAMPTZ, flag BOOLEAN, raw BYTEA)")
        conn.execute("ALTER TABLE customers REPLICA IDENTITY FULL")
        conn.execute("CREATE TABLE plain (id INT PRIMARY KEY, v TEXT NOT NULL)")  # identity DEFAULT
        conn.execute("INSERT INTO customers (name, email, balance, born, seen, zoned, flag, raw) "
                     "VALUES ('ann', 'a@x', 10.50, '1990-01-02', '2024-01-01 10:00:00.123456', "
                     "'2024-01-01 10:00:00+02', true, '\\x00ff'), ('bob', NULL, NULL, NULL, NULL, "
                     "NULL, NULL, NULL), ('cyd', 'c@x', 1, NULL, NULL, NULL, false, NULL)")
        conn.execute("INSERT INTO plain VALUES (1, 'one'), (2, 'two')")
    prefix = f"pg{uuid.uuid4().hex[:6]}"
    config = connector_config(pg, db, prefix)
    status, body = worker.call("POST", "/connectors", {"name": f"{prefix}-cdc", "config": config})
    assert status == 201, body
    topic = f"{prefix}.public.customers"
    snapshot = read_events(db_broker.bootstrap, topic, 3)
    assert [e.op for e in snapshot] == ["r", "r", "r"]
    assert [e.source["snapshot"] for e in snapshot] == ["true", "true", "true"]
    first = snapshot[0]
    assert first.key == {"id": 1}
    assert first.before is None
    assert first.after == {"id": 1, "name": "ann", "email": "a@x", "balance": "BBo=",
                           "born": 7306, "seen": 1704103200123456,
                           "zoned": "2024-01-01T08:00:00Z", "flag": True, "raw": "AP8="}

    with pg.connect(db, autocommit=False) as conn:
        conn.execute("INSERT INTO customers (name) VALUES ('dan')")
        conn.execute("UPDATE customers SET name = 'anna' WHERE id = 1")
        conn.commit()
        conn.execute("DELETE FROM customers WHERE id = 2")
        conn.execute("DELETE FROM plain WHERE id = 2")
        conn.commit()
    events = read_events(db_broker.bootstrap, topic, 3 + 4)
    changes = events[3:]
    assert [e.op for e in changes] == ["c", "u", "d", None]  # the delete, then its tombstone
    insert, update, delete, tombstone = changes
    assert insert.after["name"] == "dan" and insert.key == {"id": 4}
    assert update.before["name"] == "ann" and update.after["name"] == "anna"
    assert update.after["balance"] == "BBo="  # unchanged columns come along (REPLICA IDENTITY FULL)
    assert delete.before == {"id": 2, "name": "bob", "email": None, "balance": None, "born": None,
                             "seen": None, "zoned": None, "flag": None, "raw": None}
    assert delete.after is None and tombstone.key == {"id": 2}
    src = insert.source
    assert (src["connector"], src["name"], src["db"], src["schema"], src["table"]) == (
        "postgresql", prefix, db, "public", "customers")
    assert src["snapshot"] == "false" and update.source["txId"] == src["txId"]
    assert delete.source["txId"] != src["txId"]
    assert src["lsn"] < update.source["lsn"] < delete.source["lsn"]
    plain = read_events(db_broker.bootstrap, f"{prefix}.public.plain", 2 + 2)
    assert [e.source["snapshot"] for e in plain[:2]] == ["true", "last"]  # the snapshot's end
    assert plain[2].op == "d" and plain[2].before == {"id": 2, "v": ""}  # key only, NOT NULL v falls back

    # the slot is confirmed past the delete's commit once Kafka holds the records
    slot = config["slot.name"]
    wait_until(lambda: slot_lsn(pg, db, slot) > delete.source["lsn"], timeout=30,
               message="slot confirmed past the last change")
    # ... and not while Kafka is down: a change made then keeps the slot where it was
    before = slot_lsn(pg, db, slot)
    db_broker.kill()
    try:
        with pg.connect(db) as conn:
            conn.execute("INSERT INTO customers (name) VALUES ('while-kafka-down')")
        time.sleep(3)
        assert slot_lsn(pg, db, slot) == before
    finally:
        db_broker.start()
    events = read_events(db_broker.bootstrap, topic, 3 + 4 + 1)
    assert any(e.after and e.after["name"] == "while-kafka-down" for e in events)
    wait_until(lambda: slot_lsn(pg, db, slot) > before, timeout=60,
               message="slot confirmed after Kafka came back")
    status, offsets = worker.call("GET", f"/connectors/{prefix}-cdc/offsets")
    assert status == 200 and offsets["offsets"][0]["partition"] == {"server": prefix}, offsets
    status, body = worker.call("GET", f"/connectors/{prefix}-cdc/status")
    assert body["tasks"][0]["state"] == "RUNNING", body


class Writer:
    """Commits numbered transactions (an insert, sometimes an update or a delete of an earlier
    row) and remembers each committed change as (txid, op, id) in commit order."""

    def __init__(self, pg: PostgresServer, db: str) -> None:
        self.pg, self.db = pg, db
        self.committed: list[tuple[int, str, int]] = []
        self.n = 0
        self.ids: list[int] = []

    def run(self, count: int, stop: threading.Event | None = None) -> None:
        with self.pg.connect(self.db, autocommit=False) as conn:
            for _ in range(count):
                if stop is not None and stop.is_set():
                    return
                self.n += 1
                xid = int(conn.execute("SELECT txid_current()").fetchone()[0])
                new_id = int(conn.execute("INSERT INTO events (n) VALUES (%s) RETURNING id",
                                          (self.n,)).fetchone()[0])
                ops = [(xid, "c", new_id)]
                if self.n % 5 == 0 and self.ids:
                    target = self.ids[len(self.ids) // 2]
                    conn.execute("UPDATE events SET n = n + 1000 WHERE id = %s", (target,))
                    ops.append((xid, "u", target))
                if self.n % 7 == 0 and len(self.ids) > 3:
                    target = self.ids.pop(0)
                    conn.execute("DELETE FROM events WHERE id = %s", (target,))
                    ops.append((xid, "d", target))
                conn.commit()
                self.ids.append(new_id)
                self.committed.extend(ops)
                time.sleep(0.005)


def test_worker_sigkill_and_database_restart_lose_nothing(
        db_broker: BrokerProcess, postgres_server: PostgresServer, tmp_path: Path) -> None:
    pg = postgres_server
    db = pg.new_database("crash")
    with pg.connect(db) as conn:
        conn.execute("CREATE TABLE events (id SERIAL PRIMARY KEY, n INT NOT NULL)")
        conn.execute("ALTER TABLE events REPLICA IDENTITY FULL")
    prefix = f"crash{uuid.uuid4().hex[:6]}"
    connector_file = tmp_path / "pg-cdc.json"
    connector_file.write_text(json.dumps({"name": f"{prefix}-cdc", "config": connector_config(
        pg, db, prefix, **{"max.batch.size": "50"})}))
    writer = Writer(pg, db)
    worker = new_worker(db_broker, tmp_path / "w", [connector_file]).start()
    topic = f"{prefix}.public.events"
    try:
        # the (empty) snapshot is done once its marker is in the heartbeat topic: only then
        # does writing start, so every row arrives as a change event
        wait_until(lambda: read_topic(db_broker.bootstrap, f"__debezium-heartbeat.{prefix}",
                                      timeout=3), timeout=60, message="snapshot marker")
        writer.run(60)
        wait_until(lambda: len(read_events(db_broker.bootstrap, topic, 1, timeout=5)) > 0,
                   timeout=60, message="first events")
        # SIGKILL the worker while changes keep being committed
        stop = threading.Event()
        background = threading.Thread(target=writer.run, args=(200, stop))
        background.start()
        time.sleep(0.5)
        worker.kill()
        background.join(120)
        worker = new_worker(db_broker, tmp_path / "w", [connector_file]).start()
        # restart the database (a crash: immediate mode) while the worker catches up
        time.sleep(0.5)
        pg.restart("immediate")
        pg.wait_ready()
        writer.run(60)
        expected = writer.committed
        events = read_events(db_broker.bootstrap, topic, len(expected), timeout=120)
        unique, repeats = dedupe(events)
        seen = [(e.source["txId"], e.op, (e.after or e.before)["id"]) for e in unique]
        missing = [c for c in expected if c not in set(seen)]
        assert not missing, f"{len(missing)} committed changes never arrived: {missing[:5]}"
        assert seen == expected, "changes out of commit order"
        print(f"\nPostgreSQL CDC crash test: {len(expected)} changes, {repeats} replayed "
              f"duplicates after a worker SIGKILL and a database restart")
        # repeats are replays: dedupe() counts an event as a repeat only when its lsn, txId,
        # op and key are those of an event already delivered
        assert repeats < len(expected)
        _, body = worker.call("GET", f"/connectors/{prefix}-cdc/status")
        assert body["tasks"][0]["state"] == "RUNNING", body
    finally:
        worker.stop()


def test_bad_credentials_refused_and_lost_database_fails_the_task(
        worker: WorkerProcess, postgres_server: PostgresServer) -> None:
    pg = postgres_server
    db = pg.new_database("creds")
    status, body = worker.call("POST", "/connectors", {"name": "cdc-bad-pw", "config": {
        **connector_config(pg, db, "badpw"), "database.password": "wrong"}})
    assert status == 400, body
    assert 'password authentication failed for user "postgres"' in body["message"], body
    with pg.connect(db) as conn:
        conn.execute("CREATE ROLE leaving LOGIN REPLICATION SUPERUSER PASSWORD 'pw1'")
        conn.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    config = {**connector_config(pg, db, "leaving"), "database.user": "leaving",
              "database.password": "pw1", "errors.max.retries": "2"}
    status, body = worker.call("POST", "/connectors", {"name": "cdc-leaving", "config": config})
    assert status == 201, body

    def task_state() -> str:
        _, info = worker.call("GET", "/connectors/cdc-leaving/status")
        return str(info["tasks"][0]["state"]) if info.get("tasks") else ""
    wait_until(lambda: task_state() == "RUNNING", timeout=30, message="CDC task running")
    with pg.connect(db) as conn:
        conn.execute("ALTER ROLE leaving PASSWORD 'changed'")
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE usename = 'leaving'")
    wait_until(lambda: task_state() == "FAILED", timeout=60, message="CDC task FAILED")
    _, info = worker.call("GET", "/connectors/cdc-leaving/status")
    assert "failed after 2 retries" in info["tasks"][0]["trace"]
    assert 'password authentication failed for user "leaving"' in info["tasks"][0]["trace"]
    assert worker.call("GET", "/connectors")[0] == 200
    worker.call("DELETE", "/connectors/cdc-leaving")
