"""Error handling for conversion and transformation (KIP-298): retries, tolerance, DLQ, logs.

`errors.tolerance=none` fails the task on the first bad record with the reason as its trace;
`all` skips it, optionally logging it and, for sinks, writing the original bytes to the
dead-letter topic with `__connect.errors.*` context headers, exactly as Kafka names them.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from fjord.connect.api import ConnectException, RetriableException

log = logging.getLogger("fjord.connect.errors")

T = TypeVar("T")

HEADER_PREFIX = "__connect.errors."
ERROR_HEADER_ORIG_TOPIC = HEADER_PREFIX + "topic"
ERROR_HEADER_ORIG_PARTITION = HEADER_PREFIX + "partition"
ERROR_HEADER_ORIG_OFFSET = HEADER_PREFIX + "offset"
ERROR_HEADER_CONNECTOR_NAME = HEADER_PREFIX + "connector.name"
ERROR_HEADER_TASK_ID = HEADER_PREFIX + "task.id"
ERROR_HEADER_STAGE = HEADER_PREFIX + "stage"
ERROR_HEADER_EXECUTING_CLASS = HEADER_PREFIX + "class.name"
ERROR_HEADER_EXCEPTION = HEADER_PREFIX + "exception.class.name"
ERROR_HEADER_EXCEPTION_MESSAGE = HEADER_PREFIX + "exception.message"
ERROR_HEADER_EXCEPTION_STACK_TRACE = HEADER_PREFIX + "exception.stacktrace"


class Stage(StrEnum):
    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    TRANSFORMATION = "TRANSFORMATION"
    TASK_PUT = "TASK_PUT"
    TASK_POLL = "TASK_POLL"
    KAFKA_PRODUCE = "KAFKA_PRODUCE"
    KAFKA_CONSUME = "KAFKA_CONSUME"


class ToleranceExceeded(ConnectException):
    pass


@dataclass
class ErrorConfig:
    tolerance_all: bool = False
    retry_timeout_ms: int = 0
    retry_delay_max_ms: int = 60000
    log_enable: bool = False
    log_include_messages: bool = False
    dlq_topic: str = ""
    dlq_replication_factor: int = 3
    dlq_context_headers: bool = False

    @classmethod
    def from_connector_config(cls, config: Mapping[str, str]) -> ErrorConfig:
        def flag(key: str) -> bool:
            return str(config.get(key, "false")).strip().lower() == "true"
        return cls(
            tolerance_all=str(config.get("errors.tolerance", "none")).strip().lower() == "all",
            retry_timeout_ms=int(config.get("errors.retry.timeout", "0")),
            retry_delay_max_ms=int(config.get("errors.retry.delay.max.ms", "60000")),
            log_enable=flag("errors.log.enable"),
            log_include_messages=flag("errors.log.include.messages"),
            dlq_topic=str(config.get("errors.deadletterqueue.topic.name", "")).strip(),
            dlq_replication_factor=int(config.get("errors.deadletterqueue.topic.replication.factor",
                                                  "3")),
            dlq_context_headers=flag("errors.deadletterqueue.context.headers.enable"),
        )


@dataclass
class ErrorContext:
    """What the reporters get about one failed record."""

    stage: Stage
    executing_class: str
    error: BaseException
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    value: bytes | None = None
    headers: list[tuple[str, bytes | None]] | None = None
    record: Any = None
    """The failing record, rendered only if errors.log.include.messages asks for it."""


Reporter = Callable[[ErrorContext], None]


class RetryWithToleranceOperator:
    def __init__(self, config: ErrorConfig, connector: str, task_id: int) -> None:
        self.config = config
        self.connector = connector
        self.task_id = task_id
        self.reporters: list[Reporter] = []
        self.total_errors = 0
        self.total_skipped = 0

    def execute(self, operation: Callable[[], T], stage: Stage, executing_class: str,
                context: ErrorContext | None = None) -> tuple[bool, T | None]:
        """Run `operation`; (True, result) or (False, None) when the record must be skipped.

        RetriableExceptions are retried with exponential backoff up to errors.retry.timeout;
        anything else is a failure right away. Over tolerance, raises ToleranceExceeded.
        """
        deadline = time.monotonic() + self.config.retry_timeout_ms / 1000.0
        delay = 0.3
        while True:
            try:
                return True, operation()
            except RetriableException as exc:
                if time.monotonic() + delay < deadline:
                    time.sleep(min(delay, self.config.retry_delay_max_ms / 1000.0))
                    delay *= 2
                    continue
                error: BaseException = exc
            except Exception as exc:
                error = exc
            self._fail(error, stage, executing_class, context)
            return False, None

    def _fail(self, error: BaseException, stage: Stage, executing_class: str,
              context: ErrorContext | None) -> None:
        self.total_errors += 1
        ctx = context or ErrorContext(stage, executing_class, error)
        ctx.stage, ctx.executing_class, ctx.error = stage, executing_class, error
        if self.config.log_enable:
            detail = f" record: {ctx.record!r}" if self.config.log_include_messages else ""
            log.error("Error encountered in task %s-%d. Executing stage '%s' with class '%s'%s.",
                      self.connector, self.task_id, stage.value, executing_class, detail,
                      exc_info=error)
        if not self.config.tolerance_all:
            raise ToleranceExceeded("Tolerance exceeded in error handler") from error
        self.total_skipped += 1
        for reporter in self.reporters:
            reporter(ctx)


def context_headers(ctx: ErrorContext, connector: str, task_id: int) -> list[tuple[str, bytes]]:
    """The `__connect.errors.*` headers Kafka's DeadLetterQueueReporter adds."""
    error = ctx.error
    headers = [
        (ERROR_HEADER_ORIG_TOPIC, (ctx.topic or "").encode()),
        (ERROR_HEADER_ORIG_PARTITION, str(ctx.partition if ctx.partition is not None else -1).encode()),
        (ERROR_HEADER_ORIG_OFFSET, str(ctx.offset if ctx.offset is not None else -1).encode()),
        (ERROR_HEADER_CONNECTOR_NAME, connector.encode()),
        (ERROR_HEADER_TASK_ID, str(task_id).encode()),
        (ERROR_HEADER_STAGE, ctx.stage.value.encode()),
        (ERROR_HEADER_EXECUTING_CLASS, ctx.executing_class.encode()),
        (ERROR_HEADER_EXCEPTION, _class_name(error).encode()),
    ]
    if str(error):
        headers.append((ERROR_HEADER_EXCEPTION_MESSAGE, str(error).encode()))
    stack = "".join(traceback.format_exception(error))
    headers.append((ERROR_HEADER_EXCEPTION_STACK_TRACE, stack.encode()))
    return headers


def _class_name(error: BaseException) -> str:
    cls = type(error)
    return f"{cls.__module__}.{cls.__qualname__}"


def trace_of(error: BaseException) -> str:
    """The `trace` field of a FAILED status: the whole chain, as Java prints a stack trace."""
    return "".join(traceback.format_exception(error))


def dlq_reporter(produce: Callable[..., Any], config: ErrorConfig, connector: str, task_id: int
                 ) -> Reporter:
    def report(ctx: ErrorContext) -> None:
        headers: list[tuple[str, bytes | None]] = list(ctx.headers or [])
        if config.dlq_context_headers:
            headers.extend(context_headers(ctx, connector, task_id))
        produce(config.dlq_topic, key=ctx.key, value=ctx.value, headers=headers)
    return report
