"""Schemathesis against the control plane's published OpenAPI document: generated requests
(valid and invalid) never get a 5xx, and error answers keep MSK's shape."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.control.support import ControlProcess


def test_no_server_errors_on_generated_requests(tmp_path: Path) -> None:
    control = ControlProcess(tmp_path / "data", extra=["--max-brokers", "1", "--no-console"]).start()
    try:
        cli = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
        assert cli, "schemathesis is a test dependency (pip install -e .[test])"
        result = subprocess.run(
            [cli, "run", control.url + "/openapi.json", "--checks", "not_a_server_error",
             "--max-examples", "15", "--workers", "1", "--phases", "examples,fuzzing",
             "--suppress-health-check", "filter_too_much", "--no-color"],
            capture_output=True, text=True, timeout=480, cwd=tmp_path)  # its cache stays out of the repo
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert re.search(r"\d+ passed", result.stdout), result.stdout[-3000:]
    finally:
        control.stop()
