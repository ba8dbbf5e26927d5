"""Two distributed workers form one cluster; SIGKILL one and its tasks move to the other
without losing a line (at-least-once: duplicates are allowed, gaps are not); a third joins and
work spreads to it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
import zlib
from functools import partial
from pathlib import Path

from tests.connect.support import WorkerProcess, read_lines, wait_until
from tests.support.broker import BrokerProcess

SESSION_MS = 6000
CLUSTER_PROPS = {
    "session.timeout.ms": str(SESSION_MS),
    "heartbeat.interval.ms": "1000",
    "rebalance.timeout.ms": "20000",
    "consumer.session.timeout.ms": str(SESSION_MS),
    "consumer.heartbeat.interval.ms": "1000",
    "offset.storage.partitions": "5",
    "status.storage.partitions": "2",
}


def _healthy(worker: WorkerProcess) -> bool:
    return worker.call("GET", "/health")[0] == 200


def task_workers(worker: WorkerProcess, name: str) -> list[tuple[str, str]]:
    status, body = worker.call("GET", f"/connectors/{name}/status")
    if status != 200:
        return []
    return [(t["state"], t["worker_id"]) for t in body["tasks"]]


def test_two_workers_share_work_and_survive_sigkill(connect_broker: BrokerProcess,
                                                    tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    props = {**CLUSTER_PROPS, "group.id": f"connect-{suffix}",
             "config.storage.topic": f"cfg-{suffix}", "offset.storage.topic": f"off-{suffix}",
             "status.storage.topic": f"st-{suffix}"}
    first = WorkerProcess(tmp_path / "w1", connect_broker.bootstrap, "distributed", props).start()
    second = WorkerProcess(tmp_path / "w2", connect_broker.bootstrap, "distributed", props).start()
    workers = {f"127.0.0.1:{first.port}": first, f"127.0.0.1:{second.port}": second}
    everyone = dict(workers)
    try:
        for worker in workers.values():
            wait_until(partial(_healthy, worker), message="healthy")
        source_file, sink_file = tmp_path / "input.txt", tmp_path / "output.txt"
        lines = [f"record-{i:05d}" for i in range(300)]
        source_file.write_text("".join(f"{line}\n" for line in lines[:150]))
        # Names with both crc32 parities: with two members, both workers get work whatever the
        # member order.
        names = {"d-src": {"connector.class": "FileStreamSource", "file": str(source_file),
                           "topic": f"dist-{suffix}"},
                 "d-sink": {"connector.class": "FileStreamSink", "file": str(sink_file),
                            "topics": f"dist-{suffix}"},
                 "spread-a": {"connector.class": "FileStreamSource",
                              "file": str(tmp_path / "empty-a"), "topic": f"idle-{suffix}"}}
        assert {zlib.crc32(n.encode()) % 2 for n in names} == {0, 1}
        for index, (name, config) in enumerate(names.items()):
            via = first if index % 2 == 0 else second  # a non-leader forwards to the leader
            status, body = wait_until(partial(_create, via, name, config), message=f"create {name}")
            assert status == 201, body
        for worker in workers.values():
            assert sorted(worker.call("GET", "/connectors")[1]) == sorted(names)
        # creations went to both workers; the one that is not the leader forwarded its share
        assert FORWARDED and set(FORWARDED) < set(names)

        wait_until(lambda: read_lines(sink_file) == lines[:150], timeout=60,
                   message="first half copied")

        def spread() -> set[str]:
            owners = {w for name in names for state, w in task_workers(first, name)
                      if state == "RUNNING"}
            return owners if owners == set(workers) else set()
        wait_until(spread, timeout=30, message="tasks on both workers")

        victim_id = task_workers(first, "d-src")[0][1]
        victim = workers[victim_id]
        survivor_id = next(w for w in workers if w != victim_id)
        survivor = workers[survivor_id]
        victim.kill()
        killed_at = time.monotonic()
        with open(source_file, "a") as out:
            out.write("".join(f"{line}\n" for line in lines[150:]))

        def moved() -> bool:
            return all(task_workers(survivor, name) == [("RUNNING", survivor_id)] for name in names)
        wait_until(moved, timeout=SESSION_MS / 1000 + 25, message="tasks moved to the survivor")
        moved_after = time.monotonic() - killed_at
        wait_until(lambda: set(read_lines(sink_file)) >= set(lines), timeout=60,
                   message="every input line in the output")
        output = read_lines(sink_file)
        assert set(output) == set(lines)
        assert moved_after < SESSION_MS / 1000 + 25
        assert survivor.call("GET", "/connectors/d-src/status")[1]["connector"]["worker_id"] \
            == survivor_id

        # a worker joins: work spreads again, and the copy goes on without a gap
        joiner = WorkerProcess(tmp_path / "w3", connect_broker.bootstrap, "distributed", props)
        workers[f"127.0.0.1:{joiner.port}"] = joiner.start()
        del workers[victim_id]

        def respread() -> set[str]:
            owners = {w for name in names for state, w in task_workers(survivor, name)
                      if state == "RUNNING"}
            return owners if owners == set(workers) else set()
        wait_until(respread, timeout=SESSION_MS / 1000 + 25, message="tasks on the new worker too")
        more = [f"record-{i:05d}" for i in range(300, 350)]
        with open(source_file, "a") as out:
            out.write("".join(f"{line}\n" for line in more))
        wait_until(lambda: set(read_lines(sink_file)) >= set(lines + more), timeout=60,
                   message="lines written after the join")
    finally:
        for worker in [*everyone.values(), *workers.values()]:
            worker.stop()


FORWARDED: list[str] = []


def _create(worker: WorkerProcess, name: str, config: dict[str, str]) -> tuple[int, object] | None:
    request = urllib.request.Request(
        worker.url + "/connectors", method="POST", headers={"Content-Type": "application/json"},
        data=json.dumps({"name": name, "config": config}).encode())
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            if response.headers.get("X-Fjord-Forwarded-To"):
                FORWARDED.append(name)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
        if exc.code == 409 and "rebalance" in str(body):
            return None  # the cluster is still forming
        return exc.code, body
