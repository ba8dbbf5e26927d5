"""Where objects live, as the user writes it: `s3://bucket/prefix/` or `file:///dir/prefix/`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from fjord.objectstore.store import InvalidLocation


@dataclass(frozen=True)
class Location:
    """Where objects live: `url` as the user wrote it, split into a store and a key prefix."""

    url: str
    scheme: str  # "s3" or "file"
    bucket: str  # the bucket, or the local root directory
    prefix: str  # "" (bucket root) or ending with "/"

    @property
    def display(self) -> str:
        return self.url


def parse_location(url: str) -> Location:
    """Split `s3://bucket/prefix/` or `file:///dir/prefix/`.

    The prefix rule is CKafka's: empty means the bucket root, otherwise it must end with `/`
    so that a prefix can never glue itself onto the object names that follow it. For a local
    folder the whole path is the root directory, so it must end with `/` too (or be `/`).
    """
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme in ("s3", "s3a"):
        bucket = parsed.netloc
        if not bucket:
            raise InvalidLocation(f"{url}: no bucket name (expected s3://bucket/prefix/)")
        prefix = unquote(parsed.path).lstrip("/")
        if prefix and not prefix.endswith("/"):
            raise InvalidLocation(f"prefix {prefix!r} must end with '/' (or be empty for the bucket root)")
        if "//" in prefix:
            raise InvalidLocation(f"prefix {prefix!r} has an empty path segment")
        return Location(url, "s3", bucket, prefix)
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidLocation(f"{url}: a file URL has no host (expected file:///dir/prefix/)")
        path = unquote(parsed.path)
        if not path.startswith("/"):
            raise InvalidLocation(f"{url}: the folder must be an absolute path (file:///dir/prefix/)")
        if not path.endswith("/"):
            raise InvalidLocation(f"folder {path!r} must end with '/'")
        root = path.rstrip("/") or "/"
        return Location(url, "file", root, "")
    raise InvalidLocation(f"{url}: unsupported location (use s3://bucket/prefix/ or file:///dir/prefix/)")
