from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connect.support import STARTED, WorkerProcess
from tests.support.broker import BrokerProcess


@pytest.fixture(scope="module")
def connect_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker per test module: Connect tests only ever add topics and groups to it."""
    base = tmp_path_factory.mktemp("connect-broker")
    broker = BrokerProcess(base / "data").start()
    yield broker
    broker.stop_cleanly()


@pytest.fixture(scope="module")
def standalone_worker(connect_broker: BrokerProcess,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(tmp_path_factory.mktemp("worker"), connect_broker.bootstrap).start()
    STARTED.remove(worker)  # the module owns it, not the test that happened to start it
    yield worker
    worker.stop()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="module")
def distributed_worker(connect_broker: BrokerProcess,
                       tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """One worker of a distributed cluster of its own (group and internal topics per module)."""
    import uuid
    suffix = uuid.uuid4().hex[:8]
    worker = WorkerProcess(tmp_path_factory.mktemp("dworker"), connect_broker.bootstrap,
                           "distributed", {
                               "group.id": f"walk-{suffix}", "config.storage.topic": f"c-{suffix}",
                               "offset.storage.topic": f"o-{suffix}",
                               "status.storage.topic": f"s-{suffix}",
                               "offset.storage.partitions": "3", "status.storage.partitions": "1",
                               "heartbeat.interval.ms": "1000"}).start()
    STARTED.remove(worker)
    yield worker
    worker.stop()


@pytest.fixture(autouse=True)
def _no_stray_workers() -> Iterator[None]:
    """Workers a test started and did not stop (it failed midway) are stopped after it."""
    before = len(STARTED)
    yield
    for worker in STARTED[before:]:
        worker.stop()
