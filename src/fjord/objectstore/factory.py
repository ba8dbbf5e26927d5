"""Pick the backend for a location.

Kept apart from the interface module: the backends import the interface, so a factory inside
it would import them back (a circle that only lazy imports could hide).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.objectstore.local import LocalStore
from fjord.objectstore.location import Location
from fjord.objectstore.s3 import S3Options, S3Store
from fjord.objectstore.store import ObjectStore


def open_store(location: Location, options: Mapping[str, Any] | None = None) -> ObjectStore:
    """A store for the location; `options` carries the S3 settings (see S3Options.from_mapping)."""
    if location.scheme == "file":
        return LocalStore(location.bucket)
    return S3Store(location.bucket, S3Options.from_mapping(options or {}))
