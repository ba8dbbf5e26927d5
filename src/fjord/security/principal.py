"""Kafka principals (`User:alice`) and how TLS certificates become one.

`ssl.principal.mapping.rules` follows Kafka's SslPrincipalMapper: a comma-separated list of
`RULE:pattern/replacement/[LU]` and `DEFAULT`; the first rule whose pattern matches the
whole distinguished name (RFC 2253 form, most specific part first) gives the user name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fjord.config.definitions import ConfigError


@dataclass(frozen=True, slots=True)
class KafkaPrincipal:
    type: str
    name: str

    def __str__(self) -> str:
        return f"{self.type}:{self.name}"


ANONYMOUS = KafkaPrincipal("User", "ANONYMOUS")


def parse_principal(text: str) -> KafkaPrincipal:
    kind, sep, name = text.partition(":")
    if not sep or not kind or not name:
        raise ValueError(f"Invalid principal {text!r}: expected Type:name, e.g. User:alice")
    return KafkaPrincipal(kind, name)


_RULE = re.compile(r"\s*(DEFAULT|RULE:((?:\\.|[^\\/])*)/((?:\\.|[^\\/])*)/([LU]?))\s*(?:,|$)")


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str] | None  # None: DEFAULT
    replacement: str
    case: str

    def apply(self, dn: str) -> str | None:
        if self.pattern is None:
            return dn
        match = self.pattern.fullmatch(dn)
        if match is None:
            return None
        # Java's $1 group references become Python's \g<1>.
        name = match.expand(re.sub(r"\$(\d+)", r"\\g<\1>", self.replacement))
        if self.case == "L":
            return name.lower()
        if self.case == "U":
            return name.upper()
        return name


class PrincipalMapper:
    def __init__(self, rules: str) -> None:
        self.rules: list[_Rule] = []
        text = rules.strip() or "DEFAULT"
        pos = 0
        while pos < len(text):
            match = _RULE.match(text, pos)
            if match is None or match.end() == pos:
                raise ConfigError(
                    f"Invalid ssl.principal.mapping.rules at {text[pos:]!r}: expected "
                    "RULE:pattern/replacement/[LU] or DEFAULT, separated by commas")
            if match.group(1) == "DEFAULT":
                self.rules.append(_Rule(None, "", ""))
            else:
                try:
                    pattern = re.compile(match.group(2))
                except re.error as exc:
                    raise ConfigError(f"Invalid ssl.principal.mapping.rules pattern: {exc}") from None
                self.rules.append(_Rule(pattern, match.group(3), match.group(4)))
            pos = match.end()

    def name_for(self, dn: str) -> str:
        for rule in self.rules:
            name = rule.apply(dn)
            if name is not None:
                return name
        raise ValueError(f"No ssl.principal.mapping.rules entry matches {dn!r}")


def certificate_dn(der: bytes) -> str:
    """The subject of a DER certificate as Java's X500Principal.getName() writes it."""
    from cryptography import x509

    return x509.load_der_x509_certificate(der).subject.rfc4514_string()
