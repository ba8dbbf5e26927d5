"""Fixtures of the database connector tests: one broker per module, and the session's real
PostgreSQL and MariaDB servers (tests/support), shared by every database test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connect.support import STARTED
from tests.support.broker import BrokerProcess
from tests.support.mariadb import mariadb_server
from tests.support.postgres import postgres_server

__all__ = ["mariadb_server", "postgres_server"]


@pytest.fixture(scope="module")
def db_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path_factory.mktemp("db-broker") / "data").start()
    yield broker
    broker.stop()


@pytest.fixture(autouse=True)
def _no_stray_workers() -> Iterator[None]:
    before = len(STARTED)
    yield
    for worker in STARTED[before:]:
        worker.stop()
