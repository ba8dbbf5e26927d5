"""SIGTERM while consumers long-poll: the broker stops accepting, wakes and answers the
fetches in flight, then closes its logs; no request meets a closed log, the exit code is 0
and "broker stopped cleanly" is the last line."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess


def test_sigterm_under_long_poll_fetches_exits_cleanly(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "data").start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("quiet", 4, 1)])["quiet"].result(15)
    stop = threading.Event()
    polls = [0, 0]

    def consume(index: int) -> None:
        # A minute of fetch.wait.max.ms with a large fetch.min.bytes: every fetch waits.
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"quiet-{index}",
                             "auto.offset.reset": "earliest", "fetch.wait.max.ms": 60000,
                             "fetch.min.bytes": 1048576, "reconnect.backoff.max.ms": 100,
                             "log_level": 0})
        consumer.subscribe(["quiet"])
        while not stop.is_set():
            consumer.poll(0.2)
            polls[index] += 1
        consumer.close()

    threads = [threading.Thread(target=consume, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while "generation" not in broker.log_path.read_text() or min(polls) < 10:
        assert time.monotonic() < deadline, broker.log_tail()
        time.sleep(0.2)
    time.sleep(1.0)  # the consumers' fetches are now parked in the broker
    started = time.monotonic()
    code = broker.stop(timeout=30)
    took = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join(30)
    log = broker.log_path.read_text()
    assert code == 0, log[-3000:]
    assert "internal error" not in log and "Traceback" not in log, log[-3000:]
    assert "cancelling a request" not in log, "a long poll was not woken by the shutdown"
    assert log.strip().splitlines()[-1].endswith("broker stopped cleanly"), log[-2000:]
    assert took < 20, f"shutdown took {took:.1f}s"
