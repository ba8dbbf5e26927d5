"""Kafka's `sasl.jaas.config` value: `<LoginModule class> <flag> key="value" ... ;`.

Brokers read it per listener and mechanism (`listener.name.<l>.<mech>.sasl.jaas.config`);
for PLAIN, `user_<name>="<password>"` options are the accepted users, as in Kafka's
PlainServerCallbackHandler. Values are secrets: errors never quote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fjord.config.definitions import ConfigError

_HEAD = re.compile(r"\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\s*", re.IGNORECASE)
_OPTION = re.compile(r'\s*([\w.\-]+)\s*=\s*(?:"((?:\\.|[^"\\])*)"|([^\s;"]+))\s*')


@dataclass
class JaasEntry:
    login_module: str
    flag: str
    options: dict[str, str] = field(default_factory=dict)

    def plain_users(self) -> dict[str, str]:
        return {key[5:]: value for key, value in self.options.items() if key.startswith("user_")}


def parse_jaas(text: str, where: str) -> JaasEntry:
    head = _HEAD.match(text)
    if head is None:
        raise ConfigError(f"{where}: expected '<LoginModule class> required key=\"value\" ...;'")
    entry = JaasEntry(head.group(1), head.group(2).lower())
    pos = head.end()
    while pos < len(text):
        if text[pos:].strip() in (";", ""):
            return entry
        option = _OPTION.match(text, pos)
        if option is None:
            raise ConfigError(f"{where}: cannot read the JAAS options after {entry.login_module} "
                              "(expected key=\"value\" pairs ending with ';')")
        raw = option.group(2) if option.group(2) is not None else option.group(3)
        entry.options[option.group(1)] = re.sub(r"\\(.)", r"\1", raw)
        pos = option.end()
    raise ConfigError(f"{where}: the JAAS config must end with ';'")
