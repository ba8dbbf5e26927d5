"""Log setup: one line per event, `time level logger message`, INFO by default; or one JSON
object per line (`--log-format json`, FJORD_LOG_FORMAT=json) for log shippers.

Per-request events stay at DEBUG so a healthy broker is quiet; FJORD_LOG_LEVEL changes it.
Kafka's request log (`kafka.request.logger`) starts at WARN, i.e. off, as in Kafka's log4j
config; set it to DEBUG at runtime (BROKER_LOGGER) to log every request.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from fjord.observability.loggers import level_name

FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level (Kafka's names), logger, message, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": level_name(record.levelno),
            "logger": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str | None = None, log_format: str | None = None) -> None:
    chosen = (level or os.environ.get("FJORD_LOG_LEVEL") or "INFO").upper()
    form = (log_format or os.environ.get("FJORD_LOG_FORMAT") or "text").lower()
    if form not in FORMATS:
        raise SystemExit(f"fjord: unknown log format {form!r}: use text or json")
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(chosen)
    logging.getLogger("kafka.request.logger").setLevel(logging.WARNING)
