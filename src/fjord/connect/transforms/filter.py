"""Filter: drop records (with a predicate, the ones it matches)."""

from __future__ import annotations

from fjord.connect.api import Transformation
from fjord.connect.transforms.base import (
    R,
)


class Filter(Transformation):
    """Drops every record; meant to be used with a predicate."""

    def apply(self, record: R) -> R | None:
        return None
