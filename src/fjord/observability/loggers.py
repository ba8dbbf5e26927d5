"""Log levels changed at runtime, Kafka's way (KIP-412 BROKER_LOGGER): Kafka's level names
mapped onto Python's loggers, `root` for the root logger. Changes last until restart, as in
Kafka."""

from __future__ import annotations

import logging

TRACE = 5
logging.addLevelName(TRACE, "TRACE")
KAFKA_LEVELS = {"TRACE": TRACE, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
                "WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL,
                "OFF": logging.CRITICAL + 10}
_NAMES = {value: name for name, value in KAFKA_LEVELS.items()}
ROOT = "root"


class LoggerConfigError(ValueError):
    """An unknown logger or level (Kafka answers INVALID_CONFIG)."""


def level_name(level: int) -> str:
    if level in _NAMES:
        return _NAMES[level]
    return min(_NAMES.items(), key=lambda item: abs(item[0] - level))[1]


def logger_names() -> list[str]:
    names = [name for name, item in logging.root.manager.loggerDict.items()
             if isinstance(item, logging.Logger)]
    return [ROOT, *sorted(names)]


def exists(name: str) -> bool:
    return name == ROOT or isinstance(logging.root.manager.loggerDict.get(name), logging.Logger)


def effective_level(name: str) -> str:
    logger = logging.getLogger(None if name == ROOT else name)
    return level_name(logger.getEffectiveLevel())


def set_level(name: str, level: str | None, apply: bool = True) -> None:
    """Set a logger's level, or with None give it back to its parent (Kafka's DELETE)."""
    if not exists(name):
        raise LoggerConfigError(f"Logger {name} does not exist!")
    if level is not None and level.upper() not in KAFKA_LEVELS:
        raise LoggerConfigError(
            f"Cannot set the log level of {name} to {level} as it is not a supported log level. "
            f"Valid log levels are {', '.join(KAFKA_LEVELS)}")
    if not apply:
        return
    logger = logging.getLogger(None if name == ROOT else name)
    logger.setLevel(KAFKA_LEVELS[level.upper()] if level is not None else logging.NOTSET)
    logging.getLogger("fjord.config").info("log level of %s is now %s", name, effective_level(name))
