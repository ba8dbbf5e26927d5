from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.connect.support import WorkerProcess
from tests.support.broker import BrokerProcess


@pytest.fixture(scope="module")
def connect_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    """One broker per test module: Connect tests only ever add topics and groups to it."""
    base = tmp_path_factory.mktemp("connect-broker")
    broker = BrokerProcess(base / "data").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def standalone_worker(connect_broker: BrokerProcess,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(tmp_path_factory.mktemp("worker"), connect_broker.bootstrap).start()
    yield worker
    worker.stop()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return tmp_path
