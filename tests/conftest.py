from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from fjord.protocol.codec import STRICT_ENV, set_strict
from tests.support.broker import BrokerFactory, BrokerProcess
from tests.support.moto_server import MotoServer

# Every broker a test starts (and this process) refuses a response key that no version of the
# message has, instead of dropping it silently as production does (fjord.protocol.codec).
os.environ[STRICT_ENV] = "1"
set_strict(True)

@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One S3 server for the whole session (starting moto costs ~2 s); tests use own buckets."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = MotoServer(log).start()
    yield server
    server.stop()


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[BrokerFactory]:
    """Start brokers with overrides; at the end each must stop cleanly (exit code 0) unless
    the test killed it on purpose."""
    started: list[BrokerProcess] = []

    def make(overrides: dict[str, str] | None = None, name: str = "data") -> BrokerProcess:
        proc = BrokerProcess(tmp_path / name, overrides).start()
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop_cleanly()


@pytest.fixture
def broker(broker_factory: BrokerFactory) -> BrokerProcess:
    return broker_factory()
