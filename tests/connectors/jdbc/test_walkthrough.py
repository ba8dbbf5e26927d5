"""Seed 003's MySQL walkthrough with real databases: MariaDB rows → topic (Confluent's JDBC
source, incrementing and timestamp modes) → PostgreSQL (Confluent's JDBC sink: upsert,
auto.create, auto.evolve, tombstone deletes), through a real broker and worker process."""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.connect.support import STARTED, WorkerProcess, wait_until
from tests.connectors.support import read_topic
from tests.support.broker import BrokerProcess
from tests.support.mariadb import PASSWORD as MARIADB_PASSWORD
from tests.support.mariadb import USER as MARIADB_USER
from tests.support.mariadb import MariaDbServer
from tests.support.postgres import PASSWORD as PG_PASSWORD
from tests.support.postgres import PostgresServer

SOURCE = "io.confluent.connect.jdbc.JdbcSourceConnector"
SINK = "io.confluent.connect.jdbc.JdbcSinkConnector"
JSON = "org.apache.kafka.connect.json.JsonConverter"


@pytest.fixture(scope="module")
def worker(db_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[WorkerProcess]:
    w = WorkerProcess(tmp_path_factory.mktemp("jdbc-worker"), db_broker.bootstrap, props={
        "key.converter": JSON, "value.converter": JSON}).start()
    STARTED.remove(w)
    yield w
    w.stop()


def create(worker: WorkerProcess, name: str, config: dict[str, str]) -> None:
    status, body = worker.call("POST", "/connectors", {"name": name, "config": config})
    assert status == 201, body


def running(worker: WorkerProcess, name: str) -> bool:
    status, body = worker.call("GET", f"/connectors/{name}/status")
    return status == 200 and body["connector"]["state"] == "RUNNING" and bool(body["tasks"]) and \
        all(t["state"] == "RUNNING" for t in body["tasks"])


def pg_rows(pg: PostgresServer, db: str, sql: str) -> list[tuple[object, ...]]:
    try:
        with pg.connect(db) as conn:
            return list(conn.execute(sql).fetchall())
    except Exception as exc:  # the table is created by the sink: not there yet
        if "does not exist" in str(exc):
            return []
        raise


def test_mariadb_to_postgres_walkthrough(worker: WorkerProcess, db_broker: BrokerProcess,
                                         mariadb_server: MariaDbServer,
                                         postgres_server: PostgresServer) -> None:
    mdb = mariadb_server.new_database("shop")
    pgdb = postgres_server.new_database("copy")
    with mariadb_server.connect(mdb) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE login (id INT AUTO_INCREMENT PRIMARY KEY, "
                    "username VARCHAR(30) NOT NULL, amount DECIMAL(10,2), born DATE, "
                    "seen DATETIME(3))")
        cur.execute("CREATE TABLE events (id INT PRIMARY KEY, state VARCHAR(20) NOT NULL, "
                    "updated TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))")
        cur.executemany("INSERT INTO login (username, amount, born, seen) VALUES (%s, %s, %s, %s)",
                        [(f"user{i}", decimal.Decimal(f"{i}.25"), datetime.date(1990, 1, 1 + i),
                          datetime.datetime(2024, 5, 1, 12, 0, i, 125000)) for i in range(1, 21)])
        cur.executemany("INSERT INTO events (id, state) VALUES (%s, %s)",
                        [(i, "new") for i in range(1, 6)])

    common = {"connection.url": mariadb_server.jdbc_url(mdb, "mariadb"),
              "connection.user": MARIADB_USER, "connection.password": MARIADB_PASSWORD,
              "poll.interval.ms": "300", "topic.prefix": f"{mdb}.",
              "transforms": "createKey", "transforms.createKey.type":
              "org.apache.kafka.connect.transforms.ValueToKey", "transforms.createKey.fields": "id"}
    create(worker, "mysql-login-connector", {
        **common, "connector.class": SOURCE, "mode": "incrementing",
        "incrementing.column.name": "id", "table.whitelist": "login"})
    create(worker, "mysql-events-connector", {
        **common, "connector.class": "JdbcSourceConnector", "mode": "timestamp",
        "timestamp.column.name": "updated", "table.include.list": "events"})
    sink_common = {"connector.class": SINK, "connection.url": postgres_server.jdbc_url(pgdb),
                   "connection.user": "postgres", "connection.password": PG_PASSWORD,
                   "insert.mode": "upsert", "pk.mode": "record_key", "pk.fields": "id",
                   "auto.create": "true", "auto.evolve": "true", "delete.enabled": "true"}
    create(worker, "pg-login-sink", {**sink_common, "topics": f"{mdb}.login",
                                     "table.name.format": "login"})
    create(worker, "pg-events-sink", {**sink_common, "topics": f"{mdb}.events",
                                      "table.name.format": "events"})

    # incrementing mode: every row arrives once, typed (decimal, date, timestamp kept)
    rows = wait_until(lambda: len(r := pg_rows(postgres_server, pgdb,
                                               "SELECT id, username, amount, born, seen FROM login "
                                               "ORDER BY id")) == 20 and r,
                      timeout=90, message="20 rows in PostgreSQL")
    assert rows[0] == (1, "user1", decimal.Decimal("1.25"), datetime.date(1990, 1, 2),
                       datetime.datetime(2024, 5, 1, 12, 0, 1, 125000))
    assert [r[1] for r in rows] == [f"user{i}" for i in range(1, 21)]
    with postgres_server.connect(pgdb) as conn:
        pk = conn.execute("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
                          "a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                          "WHERE i.indrelid = 'login'::regclass AND i.indisprimary").fetchall()
    assert pk == [("id",)]
    records = read_topic(db_broker.bootstrap, f"{mdb}.login", expect=20)
    assert len(records) == 20
    key, value = records[0]
    assert json.loads(key or b"")["payload"] == {"id": 1}
    envelope = json.loads(value or b"")
    fields = {f["field"]: f for f in envelope["schema"]["fields"]}
    assert fields["amount"]["name"] == "org.apache.kafka.connect.data.Decimal"
    assert fields["amount"]["parameters"] == {"scale": "2"}
    assert fields["born"]["name"] == "org.apache.kafka.connect.data.Date"
    assert fields["seen"]["name"] == "org.apache.kafka.connect.data.Timestamp"
    assert fields["username"]["optional"] is False and fields["amount"]["optional"] is True

    # timestamp mode: updates are new versions of the row; the sink upserts them in place
    wait_until(lambda: len(pg_rows(postgres_server, pgdb, "SELECT id FROM events")) == 5,
               timeout=60, message="5 events in PostgreSQL")
    with mariadb_server.connect(mdb) as conn, conn.cursor() as cur:
        cur.execute("UPDATE events SET state = 'shipped', updated = CURRENT_TIMESTAMP(3) + "
                    "INTERVAL 1 SECOND WHERE id IN (2, 4)")
    wait_until(lambda: pg_rows(postgres_server, pgdb, "SELECT id, state FROM events ORDER BY id") ==
               [(1, "new"), (2, "shipped"), (3, "new"), (4, "shipped"), (5, "new")],
               timeout=60, message="updated events upserted")

    # a column added upstream becomes a new nullable column downstream (auto.evolve)
    with mariadb_server.connect(mdb) as conn, conn.cursor() as cur:
        cur.execute("ALTER TABLE login ADD COLUMN note VARCHAR(50) NULL")
        cur.execute("INSERT INTO login (username, note) VALUES ('late', 'added upstream')")
    wait_until(lambda: pg_rows(postgres_server, pgdb, "SELECT username, note FROM login WHERE id = 21")
               == [("late", "added upstream")], timeout=60, message="row with the new column")
    assert pg_rows(postgres_server, pgdb, "SELECT note FROM login WHERE id = 1") == [(None,)]

    # a tombstone deletes the row with that key
    key_schema = {"type": "struct", "optional": False,
                  "fields": [{"field": "id", "type": "int32", "optional": False}]}
    producer = Producer({"bootstrap.servers": db_broker.bootstrap})
    producer.produce(f"{mdb}.login", key=json.dumps({"schema": key_schema, "payload": {"id": 3}}),
                     value=None)
    producer.flush(10)
    wait_until(lambda: pg_rows(postgres_server, pgdb, "SELECT count(*) FROM login WHERE id = 3") ==
               [(0,)], timeout=60, message="row 3 deleted by the tombstone")
    assert pg_rows(postgres_server, pgdb, "SELECT count(*) FROM login") == [(20,)]

    # offsets are Confluent's shape
    status, offsets = worker.call("GET", "/connectors/mysql-login-connector/offsets")
    assert status == 200, offsets
    assert offsets["offsets"] == [{"partition": {"protocol": "1", "table": "login"},
                                   "offset": {"incrementing": 21}}]
    for name in ("mysql-login-connector", "mysql-events-connector", "pg-login-sink",
                 "pg-events-sink"):
        assert running(worker, name), worker.call("GET", f"/connectors/{name}/status")


def test_sqlite_timestamp_incrementing_to_sqlite(worker: WorkerProcess, tmp_path: Path) -> None:
    import sqlite3
    source_db, sink_db = tmp_path / "in.db", tmp_path / "out.db"
    with sqlite3.connect(source_db) as conn:
        conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor TEXT NOT NULL, "
                     "value REAL, at TIMESTAMP NOT NULL)")
        conn.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)",
                         [(i, f"s{i % 3}", i / 4, f"2024-01-01 00:00:{i:02d}") for i in range(1, 31)])
    prefix = f"sq{tmp_path.name[-6:]}."
    create(worker, "sqlite-source", {
        "connector.class": SOURCE, "connection.url": f"jdbc:sqlite:{source_db}",
        "mode": "timestamp+incrementing", "timestamp.column.name": "at",
        "incrementing.column.name": "id", "topic.prefix": prefix, "poll.interval.ms": "300",
        "batch.max.rows": "7"})
    create(worker, "sqlite-sink", {
        "connector.class": SINK, "connection.url": f"jdbc:sqlite:{sink_db}",
        "topics": f"{prefix}readings", "table.name.format": "copy", "insert.mode": "upsert",
        "pk.mode": "record_value", "pk.fields": "id", "auto.create": "true"})

    def copied() -> list[tuple[object, ...]]:
        if not sink_db.exists():
            return []
        with sqlite3.connect(sink_db) as conn:
            try:
                return list(conn.execute("SELECT id, sensor, value FROM copy ORDER BY id"))
            except sqlite3.OperationalError:
                return []

    wait_until(lambda: len(copied()) == 30, timeout=60, message="30 rows copied")
    assert copied()[3] == (4, "s1", 1.0)


def test_bad_credentials_and_unreachable_database_refused_at_create(
        worker: WorkerProcess, mariadb_server: MariaDbServer, postgres_server: PostgresServer) -> None:
    status, body = worker.call("POST", "/connectors", {"name": "bad-pw", "config": {
        "connector.class": SOURCE, "connection.url": mariadb_server.jdbc_url("mysql"),
        "connection.user": MARIADB_USER, "connection.password": "wrong", "mode": "bulk",
        "topic.prefix": "x."}})
    assert status == 400, body
    assert "Access denied for user 'fjord'" in body["message"], body
    assert "\n" not in body["message"].split("connection.url", 1)[1].splitlines()[0]
    from tests.support.broker import free_port
    status, body = worker.call("POST", "/connectors", {"name": "nobody-home", "config": {
        "connector.class": SINK, "connection.url": f"jdbc:postgresql://127.0.0.1:{free_port()}/x",
        "topics": "t", "connection.user": "postgres", "connection.password": PG_PASSWORD}})
    assert status == 400, body
    assert "Could not connect to postgresql://127.0.0.1" in body["message"]
    assert "refused" in body["message"].lower()
    status, body = worker.call("PUT", f"/connector-plugins/{SINK}/config/validate", {
        "connector.class": SINK, "topics": "t", "connection.url": postgres_server.jdbc_url("postgres"),
        "connection.user": "postgres", "connection.password": "nope"})
    assert status == 200 and body["error_count"] == 1, body
    errors = [c["value"]["errors"] for c in body["configs"] if c["value"]["name"] == "connection.url"]
    assert "password authentication failed" in errors[0][0]


def test_database_lost_at_runtime_fails_task_with_reason(worker: WorkerProcess,
                                                         mariadb_server: MariaDbServer) -> None:
    db = mariadb_server.new_database("gone")
    with mariadb_server.connect_root() as conn, conn.cursor() as cur:
        cur.execute("CREATE USER 'leaving'@'%' IDENTIFIED BY 'pw1'")
        cur.execute(f"GRANT ALL ON `{db}`.* TO 'leaving'@'%'")
        cur.execute(f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY)")
        cur.execute(f"INSERT INTO `{db}`.t VALUES (1)")
    create(worker, "losing-db", {
        "connector.class": SOURCE, "connection.url": mariadb_server.jdbc_url(db),
        "connection.user": "leaving", "connection.password": "pw1", "mode": "incrementing",
        "incrementing.column.name": "id", "topic.prefix": f"{db}.", "poll.interval.ms": "200",
        "connection.attempts": "3", "connection.backoff.ms": "300"})
    wait_until(lambda: running(worker, "losing-db"), timeout=30, message="source running")
    with mariadb_server.connect_root() as conn, conn.cursor() as cur:
        cur.execute("ALTER USER 'leaving'@'%' IDENTIFIED BY 'changed'")
        cur.execute("SELECT id FROM information_schema.processlist WHERE user = 'leaving'")
        for (pid,) in cur.fetchall():
            cur.execute(f"KILL {pid}")

    def task_state() -> tuple[str, str] | None:
        status, body = worker.call("GET", "/connectors/losing-db/status")
        task = body["tasks"][0] if status == 200 and body["tasks"] else None
        return (task["state"], task.get("trace", "")) if task and task["state"] == "FAILED" else None

    _state, trace = wait_until(task_state, timeout=60, message="task FAILED")
    assert "Access denied for user 'leaving'" in trace, trace
    assert worker.call("GET", "/connectors")[0] == 200  # the worker stays up


def test_sink_rows_the_database_refuses_go_to_the_dlq(worker: WorkerProcess, db_broker: BrokerProcess,
                                                      postgres_server: PostgresServer) -> None:
    db = postgres_server.new_database("dlq")
    with postgres_server.connect(db) as conn:
        conn.execute("CREATE TABLE orders (id INT PRIMARY KEY, qty INT NOT NULL CHECK (qty > 0))")
    topic, dlq = f"{db}-orders", f"{db}-dlq"
    schema = {"type": "struct", "optional": False, "fields": [
        {"field": "id", "type": "int32", "optional": False},
        {"field": "qty", "type": "int32", "optional": False}]}
    producer = Producer({"bootstrap.servers": db_broker.bootstrap})
    for ident, qty in ((1, 5), (2, 7), (3, -1), (4, 9)):
        producer.produce(topic, value=json.dumps({"schema": schema,
                                                  "payload": {"id": ident, "qty": qty}}))
    producer.flush(10)
    create(worker, "pg-dlq-sink", {
        "connector.class": SINK, "topics": topic, "connection.url": postgres_server.jdbc_url(db),
        "connection.user": "postgres", "connection.password": PG_PASSWORD,
        "table.name.format": "orders", "insert.mode": "upsert", "pk.mode": "record_value",
        "pk.fields": "id", "errors.tolerance": "all", "errors.deadletterqueue.topic.name": dlq,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true"})
    wait_until(lambda: pg_rows(postgres_server, db, "SELECT id, qty FROM orders ORDER BY id") ==
               [(1, 5), (2, 7), (4, 9)], timeout=60, message="the good rows in PostgreSQL")
    dead = read_topic(db_broker.bootstrap, dlq, expect=1)
    assert len(dead) == 1 and json.loads(dead[0][1] or b"")["payload"] == {"id": 3, "qty": -1}
    assert running(worker, "pg-dlq-sink")


def test_query_and_bulk_modes_with_best_fit_numerics(worker: WorkerProcess, db_broker: BrokerProcess,
                                                     postgres_server: PostgresServer) -> None:
    db = postgres_server.new_database("modes")
    with postgres_server.connect(db) as conn:
        conn.execute("CREATE TABLE stock (id INT PRIMARY KEY, qty NUMERIC(5,0) NOT NULL, "
                     "price NUMERIC(8,2) NOT NULL, sku TEXT NOT NULL)")
        conn.execute("INSERT INTO stock VALUES (1, 10, 2.50, 'a'), (2, 20, 3.75, 'b'), "
                     "(3, 30, 1.00, 'c')")
    common = {"connector.class": SOURCE, "connection.url": postgres_server.jdbc_url(db),
              "connection.user": "postgres", "connection.password": PG_PASSWORD,
              "poll.interval.ms": "300"}
    create(worker, "pg-query", {**common, "mode": "incrementing", "incrementing.column.name": "id",
                                "query": "SELECT id, sku FROM stock WHERE qty >= 20",
                                "topic.prefix": f"{db}-cheap"})
    create(worker, "pg-bulk", {**common, "mode": "bulk", "table.whitelist": "stock",
                               "numeric.mapping": "best_fit", "topic.prefix": f"{db}-bulk-",
                               "poll.interval.ms": "60000"})
    query_rows = read_topic(db_broker.bootstrap, f"{db}-cheap", expect=2)
    assert [json.loads(v or b"")["payload"] for _, v in query_rows] == [
        {"id": 2, "sku": "b"}, {"id": 3, "sku": "c"}]
    bulk = read_topic(db_broker.bootstrap, f"{db}-bulk-stock", expect=3)
    first = json.loads(bulk[0][1] or b"")
    types = {f["field"]: f["type"] for f in first["schema"]["fields"]}
    assert types == {"id": "int32", "qty": "int32", "price": "double", "sku": "string"}
    assert sorted(json.loads(v or b"")["payload"]["price"] for _, v in bulk) == [1.0, 2.5, 3.75]
