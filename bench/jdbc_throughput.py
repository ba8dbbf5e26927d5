"""PostgreSQL → topic → PostgreSQL through one standalone worker, and PostgreSQL CDC → topic.

Starts a real PostgreSQL (the image's binaries), a real broker and a real worker (processes).
JDBC: N rows are in a source table; a JdbcSource (incrementing) and a JdbcSink (upsert) are
created and timed until the sink table holds every row. CDC: a Debezium PostgresConnector
is created with snapshot.mode=never, N rows are inserted in transactions of 1,000, and
timed until every change event is in the topic. Prints one JSON object per case: rows/s and
the worker's CPU seconds per 100,000 rows (utime+stime from /proc, which the other load on a
shared machine bends less than wall time).

    python bench/jdbc_throughput.py [--rows 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from confluent_kafka import Consumer, TopicPartition
from tests.connect.support import WorkerProcess
from tests.support.broker import BrokerProcess
from tests.support.postgres import PASSWORD, PostgresServer

JSON = "org.apache.kafka.connect.json.JsonConverter"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def topic_size(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": uuid.uuid4().hex})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)
        return int(high - low)
    except Exception:
        return 0
    finally:
        consumer.close()


def figures(case: str, rows: int, seconds: float, cpu: float) -> dict[str, object]:
    return {"case": case, "rows": rows, "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds), "worker_cpu_s_per_100k_rows":
            round(cpu * 100_000 / rows, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    rows = args.rows
    pg = PostgresServer().init().start()
    with tempfile.TemporaryDirectory(prefix="fjord-jdbc-bench-") as tmp:
        base = Path(tmp)
        broker = BrokerProcess(base / "data").start()
        worker = WorkerProcess(base / "worker", broker.bootstrap, props={
            "key.converter": JSON, "value.converter": JSON,
            "offset.flush.interval.ms": "5000"}).start()
        try:
            assert worker.proc is not None
            db = pg.new_database("bench")
            with pg.connect(db) as conn:
                conn.execute("CREATE TABLE src (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, "
                             "amount NUMERIC(12,2), at TIMESTAMP NOT NULL DEFAULT now())")
                conn.execute("INSERT INTO src (name, amount) SELECT 'name-' || g, g / 100.0 "
                             "FROM generate_series(1, %s) g", (rows,))
            common = {"connection.url": pg.jdbc_url(db), "connection.user": "postgres",
                      "connection.password": PASSWORD}
            cpu_before, started = cpu_seconds(worker.proc.pid), time.monotonic()
            for name, config in (
                    ("bench-source", {**common, "connector.class":
                                      "io.confluent.connect.jdbc.JdbcSourceConnector",
                                      "mode": "incrementing", "incrementing.column.name": "id",
                                      "table.whitelist": "src", "topic.prefix": "bench-",
                                      "poll.interval.ms": "200", "batch.max.rows": "2000",
                                      "transforms": "k", "transforms.k.type":
                                      "org.apache.kafka.connect.transforms.ValueToKey",
                                      "transforms.k.fields": "id"}),
                    ("bench-sink", {**common, "connector.class":
                                    "io.confluent.connect.jdbc.JdbcSinkConnector",
                                    "topics": "bench-src", "table.name.format": "dst",
                                    "insert.mode": "upsert", "pk.mode": "record_key",
                                    "auto.create": "true", "consumer.override.max.poll.records":
                                    "2000"})):
                status, body = worker.call("POST", "/connectors", {"name": name, "config": config})
                assert status == 201, body
            while True:
                try:
                    with pg.connect(db) as conn:
                        done = int(conn.execute("SELECT count(*) FROM dst").fetchone()[0])
                except Exception:
                    done = 0
                if done >= rows:
                    break
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"timed out: {done} of {rows} rows")
                time.sleep(0.2)
            jdbc = figures("jdbc pg->topic->pg (upsert)", rows, time.monotonic() - started,
                           cpu_seconds(worker.proc.pid) - cpu_before)
            for name in ("bench-source", "bench-sink"):
                worker.call("DELETE", f"/connectors/{name}")
            print(json.dumps(jdbc), flush=True)

            with pg.connect(db) as conn:
                conn.execute("CREATE TABLE cdc (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, "
                             "amount NUMERIC(12,2))")
            status, body = worker.call("POST", "/connectors", {"name": "bench-cdc", "config": {
                "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                "database.hostname": "127.0.0.1", "database.port": str(pg.port),
                "database.user": "postgres", "database.password": PASSWORD,
                "database.dbname": db, "topic.prefix": "benchcdc", "snapshot.mode": "never",
                "table.include.list": "public.cdc", "poll.interval.ms": "100",
                "slot.name": "bench", "publication.name": "bench"}})
            assert status == 201, body
            time.sleep(3)  # slot and publication in place before the first insert
            topic = "benchcdc.public.cdc"
            cpu_before, started = cpu_seconds(worker.proc.pid), time.monotonic()
            with pg.connect(db, autocommit=False) as conn:
                for start in range(0, rows, 1000):
                    conn.execute("INSERT INTO cdc (name, amount) SELECT 'name-' || g, g / 100.0 "
                                 "FROM generate_series(%s::int, %s::int) g",
                                 (start + 1, min(rows, start + 1000)))
                    conn.commit()
            while topic_size(broker.bootstrap, topic) < rows:
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"timed out: {topic_size(broker.bootstrap, topic)} of {rows}")
                time.sleep(0.2)
            cdc = figures("cdc pg->topic (Debezium envelope)", rows, time.monotonic() - started,
                          cpu_seconds(worker.proc.pid) - cpu_before)
            print(json.dumps(cdc), flush=True)
        finally:
            worker.stop()
            broker.stop()
            pg.destroy()


if __name__ == "__main__":
    main()
