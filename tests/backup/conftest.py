from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backup.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One S3 server for the whole session (starting moto costs ~2 s); tests use own buckets."""
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    server = MotoServer(log).start()
    yield server
    server.stop()
