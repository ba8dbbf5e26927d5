"""Debezium's MySQL connector over MariaDB's binlog (ROW format, GTIDs), with a real MariaDB, a
real broker and real worker processes: snapshot then changes in commit order in Debezium's
envelope; a SIGKILLed worker and a crashed-and-restarted server lose nothing."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

from tests.connect.support import WorkerProcess
from tests.connectors.cdc.support import dedupe, read_events
from tests.support.broker import BrokerProcess
from tests.support.mariadb import PASSWORD, USER, MariaDbServer

CONNECTOR = "io.debezium.connector.mysql.MySqlConnector"
JSON = "org.apache.kafka.connect.json.JsonConverter"


def config(server: MariaDbServer, db: str, prefix: str) -> dict[str, str]:
    return {"connector.class": CONNECTOR, "database.hostname": "127.0.0.1",
            "database.port": str(server.port), "database.user": USER, "database.password": PASSWORD,
            "database.server.id": str(5000 + int(uuid.uuid4().int % 1000)), "topic.prefix": prefix,
            "database.include.list": db, "poll.interval.ms": "100", "max.batch.size": "50",
            "errors.retry.delay.initial.ms": "200", "errors.retry.delay.max.ms": "1000"}


class Writer:
    def __init__(self, server: MariaDbServer, db: str) -> None:
        self.server, self.db = server, db
        self.committed: list[tuple[str, str, int]] = []
        self.ids: list[int] = []
        self.n = 0

    def run(self, count: int) -> None:
        conn = self.server.connect(self.db, autocommit=False)
        try:
            with conn.cursor() as cur:
                for _ in range(count):
                    self.n += 1
                    cur.execute("INSERT INTO events (n) VALUES (%s)", (self.n,))
                    new_id = int(cur.lastrowid)
                    ops = [("c", new_id)]
                    if self.n % 5 == 0 and self.ids:
                        target = self.ids[len(self.ids) // 2]
                        cur.execute("UPDATE events SET n = n + 1000 WHERE id = %s", (target,))
                        ops.append(("u", target))
                    if self.n % 7 == 0 and len(self.ids) > 3:
                        target = self.ids.pop(0)
                        cur.execute("DELETE FROM events WHERE id = %s", (target,))
                        ops.append(("d", target))
                    conn.commit()
                    cur.execute("SELECT @@last_gtid")
                    gtid = str(cur.fetchone()[0])
                    self.ids.append(new_id)
                    self.committed.extend((gtid, op, row) for op, row in ops)
                    time.sleep(0.005)
        finally:
            conn.close()


def test_binlog_snapshot_changes_sigkill_and_server_crash(
        db_broker: BrokerProcess, mariadb_server: MariaDbServer, tmp_path: Path) -> None:
    server = mariadb_server
    db = server.new_database("binlog")
    with server.connect(db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL, "
                    "note VARCHAR(20))")
        cur.execute("INSERT INTO events (n, note) VALUES (-1, 'before'), (-2, 'snapshot')")
    prefix = f"mdb{uuid.uuid4().hex[:6]}"
    file = tmp_path / "mysql-cdc.json"
    file.write_text(json.dumps({"name": f"{prefix}-cdc", "config": config(server, db, prefix)}))

    def start_worker() -> WorkerProcess:
        return WorkerProcess(tmp_path / "w", db_broker.bootstrap, connector_files=[file], props={
            "key.converter": JSON, "value.converter": JSON,
            "offset.flush.interval.ms": "300"}).start()

    worker = start_worker()
    topic = f"{prefix}.{db}.events"
    writer = Writer(server, db)
    try:
        status, body = worker.call("PUT", f"/connector-plugins/{CONNECTOR}/config/validate", {
            **config(server, db, "bad"), "database.password": "wrong"})
        assert status == 200 and body["error_count"] == 1, body
        [errors] = [c["value"]["errors"] for c in body["configs"]
                    if c["value"]["name"] == "database.hostname"]
        assert "Access denied for user 'fjord'" in errors[0], errors
        snapshot = read_events(db_broker.bootstrap, topic, 2)
        assert [e.op for e in snapshot[:2]] == ["r", "r"]
        assert snapshot[0].after == {"id": 1, "n": -1, "note": "before"}
        assert snapshot[0].key == {"id": 1}
        assert snapshot[1].source["snapshot"] == "last"
        writer.run(40)
        events = read_events(db_broker.bootstrap, topic, 2 + 5)
        first = events[2]
        assert first.op == "c" and first.before is None and first.after["n"] == 1
        src = first.source
        assert (src["connector"], src["name"], src["db"], src["table"]) == ("mysql", prefix, db,
                                                                            "events")
        assert src["gtid"] == writer.committed[0][0] and src["file"].startswith("mysql-bin.")
        update = next(e for e in events if e.op == "u")
        assert update.before["n"] + 1000 == update.after["n"]

        background = threading.Thread(target=writer.run, args=(150,))
        background.start()
        time.sleep(0.5)
        worker.kill()
        background.join(120)
        worker = start_worker()
        time.sleep(0.5)
        server.restart(crash=True)
        writer.run(40)
        expected = writer.committed
        events = read_events(db_broker.bootstrap, topic, 2 + len(expected), timeout=120)
        unique, repeats = dedupe(events[2:])
        seen = [(e.source["gtid"], e.op, (e.after or e.before)["id"]) for e in unique]
        missing = [c for c in expected if c not in set(seen)]
        assert not missing, f"{len(missing)} committed changes never arrived: {missing[:5]}"
        assert seen == expected, "changes out of commit order"
        print(f"\nMariaDB binlog CDC crash test: {len(expected)} changes, {repeats} replayed "
              "duplicates after a worker SIGKILL and a server crash")
        assert repeats < len(expected)
        _, body = worker.call("GET", f"/connectors/{prefix}-cdc/status")
        assert body["tasks"][0]["state"] == "RUNNING", body
    finally:
        worker.stop()
