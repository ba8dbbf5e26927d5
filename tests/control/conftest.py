from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.control.support import ControlProcess


@pytest.fixture(scope="module")
def control(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlProcess]:
    proc = ControlProcess(tmp_path_factory.mktemp("control") / "data").start()
    yield proc
    proc.stop()
