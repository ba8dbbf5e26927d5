"""The consumer-group acceptance scenario, the same for every client.

Each consumer is a separate process (group_worker.py, or js/group_worker.js for kafkajs)
reporting its assignment, every record it consumed and every commit the broker
acknowledged. The scenario:

1. three consumers join a group on a 6-partition topic: their assignments must be
   disjoint and cover all six partitions, and every record is consumed;
2. one consumer closes cleanly and one is SIGKILLed: the third must end up owning all six
   partitions and consume everything produced afterwards;
3. no record may be consumed twice unless the first consumer of it never had a commit
   past it acknowledged (the uncommitted window);
4. the last consumer closes, more records are produced, the broker restarts, and a fresh
   consumer must start exactly at the committed offsets: the new records, nothing older.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.wait import wait_until

HERE = Path(__file__).parent
PARTITIONS = 6
BATCH = 60  # records per production round, spread evenly over the partitions


class Worker:
    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.assignment: list[int] | None = None
        self.consumed: list[tuple[int, int]] = []
        self.committed: dict[int, int] = {}
        self.closed = False
        self.stderr: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def drain(self) -> None:
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            kind = event["e"]
            if kind == "assigned":
                self.assignment = list(event["ps"])
            elif kind == "consumed":
                self.consumed.append((event["p"], event["o"]))
            elif kind == "committed":
                self.committed[event["p"]] = max(self.committed.get(event["p"], 0), event["o"])
            elif kind == "closed":
                self.closed = True
            elif kind == "error":
                raise AssertionError(f"{self.name} failed: {event}")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("close\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.drain()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def describe(self) -> str:
        return (f"{self.name}: assignment={self.assignment} consumed={len(self.consumed)} "
                f"exit={self.proc.poll()} stderr={''.join(self.stderr[-80:])}")


def worker_command(client: str, bootstrap: str, group: str, topic: str, assignor: str = "") -> list[str]:
    if client == "kafkajs":
        return ["node", str(HERE / "js" / "group_worker.js"), bootstrap, group, topic]
    return [sys.executable, str(HERE / "group_worker.py"), client, bootstrap, group, topic, assignor]


def wait_for(workers: list[Worker], condition: Callable[[], bool], what: str, timeout: float = 60,
             broker: BrokerProcess | None = None) -> None:
    def check() -> bool:
        for worker in workers:
            worker.drain()
        return condition()

    def explain() -> str:
        for worker in workers:  # Python workers dump their threads' stacks to stderr
            if worker.proc.poll() is None and worker.command[0] == sys.executable:
                worker.proc.send_signal(signal.SIGUSR1)
        time.sleep(1)
        tail = f"\nbroker log:\n{broker.log_tail(40)}" if broker is not None else ""
        return "; ".join(w.describe() for w in workers) + tail

    wait_until(check, timeout, interval=0.05, message=what, describe=explain)


def produce(bootstrap: str, topic: str, first: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(first, first + count):
        producer.produce(topic, value=b"r%d" % i, partition=i % PARTITIONS)
    assert producer.flush(10) == 0


def distinct(workers: list[Worker]) -> set[tuple[int, int]]:
    return {record for worker in workers for record in worker.consumed}


def check_no_double_consumption(workers: list[Worker]) -> None:
    """A record read more than once must have been read at most once by a consumer that
    later had a commit past it acknowledged: every other reading was uncommitted."""
    counts = Counter(record for worker in workers for record in worker.consumed)
    for (partition, offset), count in counts.items():
        if count == 1:
            continue
        holders = [w for w in workers if (partition, offset) in w.consumed]
        past = [w.name for w in holders if w.committed.get(partition, 0) > offset]
        assert len(past) <= 1, (
            f"record {(partition, offset)} read {count} times by {[w.name for w in holders]}; "
            f"{past} all had commits past it")


def run_scenario(broker: BrokerProcess, client: str, assignor: str = "",
                 kill: bool = True) -> dict[str, float]:
    """kill=False closes the second consumer too instead of SIGKILLing it (for protocols
    whose session timeout is the broker's 45 s)."""
    topic, group = f"groups-{client}-{assignor}", f"group-{client}-{assignor}"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(15)
    produce(broker.bootstrap, topic, 0, BATCH)
    workers: list[Worker] = []
    timings: dict[str, float] = {}
    try:
        start = time.monotonic()
        for i in range(3):
            workers.append(Worker(f"{client}-{i}", worker_command(client, broker.bootstrap, group, topic,
                                                                 assignor)))

        def balanced() -> bool:
            sets = [set(w.assignment or []) for w in workers]
            return (all(sets) and sum(len(s) for s in sets) == PARTITIONS
                    and set().union(*sets) == set(range(PARTITIONS)))

        wait_for(workers, lambda: balanced() and len(distinct(workers)) == BATCH,
                 "three consumers sharing six partitions", broker=broker)
        timings["three_joined_s"] = time.monotonic() - start
        assignments = [sorted(w.assignment or []) for w in workers]
        assert sorted(p for a in assignments for p in a) == list(range(PARTITIONS)), assignments

        produce(broker.bootstrap, topic, BATCH, BATCH)
        wait_for(workers, lambda: len(distinct(workers)) == 2 * BATCH, "the second round consumed")

        leaver, victim, survivor = workers
        leaver.close()
        wait_for(workers, lambda: leaver.closed, "a clean close")
        if kill:
            victim.kill()
        else:
            victim.close()
            wait_for(workers, lambda: victim.closed, "a second clean close")
        start = time.monotonic()
        wait_for(workers, lambda: survivor.assignment == list(range(PARTITIONS)),
                 "the survivor to take every partition", broker=broker)
        timings["takeover_after_kill_s"] = time.monotonic() - start
        produce(broker.bootstrap, topic, 2 * BATCH, BATCH)
        wait_for(workers, lambda: len(distinct(workers)) == 3 * BATCH, "the third round consumed")
        check_no_double_consumption(workers)
        assert leaver.proc.wait(20) == 0, leaver.describe()

        survivor.close()
        wait_for(workers, lambda: survivor.closed, "the survivor's clean close")
        assert survivor.proc.wait(20) == 0, survivor.describe()
        committed = {p: max(w.committed.get(p, 0) for w in workers) for p in range(PARTITIONS)}
        assert committed == {p: 3 * BATCH // PARTITIONS for p in range(PARTITIONS)}, committed

        produce(broker.bootstrap, topic, 3 * BATCH, BATCH)
        broker.restart()
        resumed = Worker(f"{client}-after-restart",
                         worker_command(client, broker.bootstrap, group, topic, assignor))
        workers.append(resumed)
        wait_for([resumed], lambda: len(resumed.consumed) >= BATCH, "consumption after restart",
                 broker=broker)
        time.sleep(0.5)
        resumed.drain()
        first: dict[int, int] = {}
        for partition, offset in resumed.consumed:
            first.setdefault(partition, offset)
        assert first == committed, f"resumed at {first}, committed {committed}"
        assert len(resumed.consumed) == BATCH, f"re-consumed records: {len(resumed.consumed)}"
        resumed.close()
        wait_for([resumed], lambda: resumed.closed, "the last close")
        return timings
    finally:
        for worker in workers:
            worker.stop()
