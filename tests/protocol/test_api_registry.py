"""The registry of served API versions is the one truth: each API module's docstring and
docs/broker.md's table are compared with it, so neither can promise what the broker does not serve."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import fjord.broker.apis  # noqa: F401  (registers every API)
from fjord.broker.registry import APIS, Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "broker.md"
_ROW = re.compile(r"^\|\s*(\d+)\s*\|\s*(\w+)\s*\|\s*v(\d+)[-\u2013]v(\d+)"
                  r"(?:\s*\(advertised from v(\d+)\))?\s*\|")


def _versions(api: Api) -> str:
    return f"v{api.min_version}-v{api.max_version}"


def test_docs_broker_md_lists_exactly_the_registered_apis() -> None:
    documented = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            key, name, low, high, advertised = match.groups()
            documented[int(key)] = (name, int(low), int(high),
                                    int(advertised) if advertised is not None else int(low))
    registered = {key: (api.name, api.min_version, api.max_version, api.advertised_min)
                  for key, api in APIS.items()}
    missing = sorted(set(registered) - set(documented))
    extra = sorted(set(documented) - set(registered))
    wrong = sorted(key for key in set(registered) & set(documented)
                   if registered[key] != documented[key])
    assert not (missing or extra or wrong), (
        f"docs/broker.md vs the registry: missing {missing}, not served {extra}, "
        f"different {[(k, documented[k], registered[k]) for k in wrong]}")


def test_every_api_module_opens_with_its_versions() -> None:
    by_module: dict[str, list[Api]] = {}
    for api in APIS.values():
        by_module.setdefault(api.handler.__module__, []).append(api)
    problems = []
    for module, apis in sorted(by_module.items()):
        doc = sys.modules[module].__doc__ or ""
        for api in apis:
            wanted = (f"Versions: {_versions(api)}" if len(apis) == 1
                      else f"{api.name} versions: {_versions(api)}")
            if wanted not in doc:
                problems.append(f"{module}: docstring lacks '{wanted}'")
        if "Version notes:" not in doc:
            problems.append(f"{module}: docstring lacks 'Version notes:'")
    assert not problems, "\n".join(problems)
