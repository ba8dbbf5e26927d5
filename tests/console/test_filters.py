"""The message browser's filters and rendering: data, never code; text, never markup."""

from __future__ import annotations

import json

import pytest

from fjord.console.messages import Filters, render
from fjord.console.topics import ConsoleError

RECORD = json.dumps({"customer": {"id": 7, "tier": "gold"}, "amount": 125}).encode()


@pytest.mark.parametrize(("filters", "accepted"), [
    (Filters(key="order"), True),
    (Filters(key="nope"), False),
    (Filters(value="gold"), True),
    (Filters(header="trace"), True),
    (Filters(header="trace=abc"), True),
    (Filters(header="trace=xyz"), False),
    (Filters(jsonpath="$.customer.id"), True),
    (Filters(jsonpath="$.customer.missing"), False),
    (Filters(jsonpath="$[?(@.amount > 100)]"), True),
    (Filters(jsonpath="$[?(@.amount > 1000)]"), False),
    (Filters(jsonpath="$[?(@.customer.tier == 'gold')]"), True),
])
def test_filters(filters: Filters, accepted: bool) -> None:
    filters.compile()
    assert filters.accept(b"order-42", RECORD, [("trace", b"abc")]) is accepted


def test_jsonpath_never_evaluates_code() -> None:
    for expression in ("__import__('os').system('true')", "$.a; import os", "${7*7}"):
        filters = Filters(jsonpath=expression)
        try:
            filters.compile()
        except ConsoleError:
            continue
        assert not filters.accept(None, RECORD, [])
    path = Filters(jsonpath="$.a")
    path.compile()
    assert not path.accept(None, b"not json", [])  # a non-JSON value never matches a JSONPath


def test_render_formats() -> None:
    assert render(b'{"a":1}', "json") == '{\n  "a": 1\n}'
    assert render(b"\x00\xff", "auto") == "00 ff"
    assert render(b"<b>x</b>", "string") == "<b>x</b>"  # escaped by the template, not here
    assert render(b"hi", "hex") == "68 69"
    assert render(None, "auto") is None
