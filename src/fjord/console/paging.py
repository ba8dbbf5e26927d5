"""Server-side filtering and paging: a page never asks a cluster about more than it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
PAGE_SIZE = 50


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    number = max(1, number)
    start = (number - 1) * size
    return Page(list(items[start : start + size]), number, size, len(items))


def matches(name: str, query: str) -> bool:
    return not query or query.lower() in name.lower()
