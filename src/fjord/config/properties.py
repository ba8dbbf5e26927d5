"""Reader for Java .properties files, the format of Kafka's server.properties."""

from __future__ import annotations

from pathlib import Path


def parse_properties(text: str) -> dict[str, str]:
    """Parse `key=value` / `key: value` lines with `#`/`!` comments and `\\` continuations."""
    result: dict[str, str] = {}
    logical: list[str] = []
    for raw_line in text.splitlines():
        line = raw_line.lstrip() if not logical else raw_line.strip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if _continues(line):
            logical.append(line[:-1])
            continue
        logical.append(line)
        entry = "".join(logical)
        logical = []
        key, value = _split(entry)
        if key:
            result[key] = value
    if logical:
        key, value = _split("".join(logical))
        if key:
            result[key] = value
    return result


def _continues(line: str) -> bool:
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _split(entry: str) -> tuple[str, str]:
    for index, char in enumerate(entry):
        if char in "=:" or char.isspace():
            key = entry[:index]
            rest = entry[index:].lstrip()
            if rest and rest[0] in "=:":
                rest = rest[1:].lstrip()
            return key, rest
    return entry, ""


def read_properties(path: str | Path) -> dict[str, str]:
    return parse_properties(Path(path).read_text(encoding="utf-8"))


def parse_overrides(overrides: list[str]) -> dict[str, str]:
    """`--override key=value` arguments, as kafka-server-start.sh takes them."""
    result: dict[str, str] = {}
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--override expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        result[key.strip()] = value.strip()
    return result
