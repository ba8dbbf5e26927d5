from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fjord.config.broker import BrokerConfig
from fjord.config.definitions import ConfigError
from fjord.config.properties import parse_properties


def test_properties_format() -> None:
    text = "# comment\n! also\nlog.dirs = /a,\\\n  /b\nnum.partitions:3\nkey value\n"
    assert parse_properties(text) == {"log.dirs": "/a,/b", "num.partitions": "3", "key": "value"}


def test_retention_precedence_is_kafkas() -> None:
    assert BrokerConfig({}).retention_ms() == 168 * 3_600_000
    assert BrokerConfig({"log.retention.hours": "1"}).retention_ms() == 3_600_000
    both = BrokerConfig({"log.retention.minutes": "2", "log.retention.hours": "1"})
    assert both.retention_ms() == 120_000
    assert BrokerConfig({"log.retention.ms": "5", "log.retention.minutes": "2"}).retention_ms() == 5


def test_unknown_key_is_refused_with_a_hint() -> None:
    with pytest.raises(ConfigError, match=r"did you mean num\.partitions"):
        BrokerConfig({"num.partition": "3"})


def test_bad_value_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"num\.partitions"):
        BrokerConfig({"num.partitions": "many"})
    with pytest.raises(ConfigError, match="at least 1"):
        BrokerConfig({"num.partitions": "0"})


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fjord.cli.main", "broker", "--override", "log.segment.bytes=abc",
         "--override", f"log.dirs={tmp_path}"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "fjord: Invalid value 'abc' for configuration log.segment.bytes: expected a int"
    ]
