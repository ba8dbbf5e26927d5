"""Log setup: one line per event, `time level logger message`, INFO by default.

Per-request events stay at DEBUG so a healthy broker is quiet; FJORD_LOG_LEVEL changes it.
"""

from __future__ import annotations

import logging
import os
import sys


def setup_logging(level: str | None = None) -> None:
    chosen = (level or os.environ.get("FJORD_LOG_LEVEL") or "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(chosen)
