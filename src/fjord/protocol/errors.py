"""The error of a request frame that cannot be parsed (its own module so that the codec and
the length checks it runs first can both raise it)."""

from __future__ import annotations


class FrameError(ValueError):
    """A request that cannot be parsed: Kafka closes such a connection."""
