"""AWS Signature Version 4, checked on the server side, so that SDKs (boto3's `kafka` client,
the aws CLI) authenticate to a control plane bound off loopback with the API token as their
secret access key, unchanged. The access key id is not a secret and is not checked.

The canonical request follows AWS's rules for non-S3 services: the URI path, as sent, is
encoded once more; query parameters are sorted as sent; the payload is hashed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW_S = 15 * 60


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def parse_authorization(header: str) -> dict[str, str] | None:
    if not header.startswith(ALGORITHM + " "):
        return None
    fields: dict[str, str] = {}
    for part in header[len(ALGORITHM) + 1:].split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    if not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return None
    return fields


def verify(method: str, raw_path: str, raw_query: str, headers: dict[str, str], body: bytes,
           secret: str, now: float | None = None) -> bool:
    """True when the request carries a valid SigV4 signature made with `secret`."""
    fields = parse_authorization(headers.get("authorization", ""))
    if fields is None:
        return False
    scope_parts = fields["Credential"].split("/")
    if len(scope_parts) != 5 or scope_parts[4] != "aws4_request":
        return False
    _access_key, day, region, service, _terminator = scope_parts
    amz_date = headers.get("x-amz-date", "")
    try:
        stamp = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return False
    if abs((now if now is not None else time.time()) - stamp) > MAX_SKEW_S or not amz_date.startswith(day):
        return False
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or any(name not in headers for name in signed):
        return False
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    # As SDKs sign it: the pairs as sent (already encoded), sorted.
    query = sorted(pair.partition("=")[::2] for pair in raw_query.split("&") if pair)
    canonical_request = "\n".join([
        method.upper(),
        quote(raw_path or "/", safe="/~"),
        "&".join(f"{k}={v}" for k, v in query),
        canonical_headers,
        fields["SignedHeaders"],
        headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope,
                                hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode("utf-8"), day), region), service), "aws4_request")
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["Signature"])
