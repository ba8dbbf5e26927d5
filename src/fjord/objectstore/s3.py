"""S3-compatible object stores (AWS S3, MinIO, Ceph, Tencent COS, moto ...) through boto3.

Why boto3 and not obstore: the store is driven from synchronous connector threads, objects
are large (rotation packs many records into one), so per-request overhead is not what
limits throughput; what matters is telling the user *why* a store refuses them, and boto3
surfaces S3's own error codes (NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch)
and distinct connection errors, which `check` turns into one precise line. It is also the
client every S3-compatible vendor documents, and the test server (moto) depends on it anyway.

A PUT in S3 is atomic and durable when it returns, which is the contract ObjectStore asks for.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

from fjord.objectstore.store import (
    BucketNotFound,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StoreAuthError,
    StoreError,
    StoreUnreachable,
)

ENDPOINT = "s3.endpoint"
REGION = "s3.region"
ACCESS_KEY = "aws.access.key.id"
SECRET_KEY = "aws.secret.access.key"
SESSION_TOKEN = "aws.session.token"
PATH_STYLE = "s3.path.style.access.enabled"
RETRIES = "s3.retries"
TIMEOUT_MS = "s3.timeout.ms"

_AUTH_CODES = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
    "InvalidToken", "InvalidClientTokenId", "AuthorizationHeaderMalformed", "403", "Forbidden",
}
_NO_BUCKET_CODES = {"NoSuchBucket"}
_NO_KEY_CODES = {"NoSuchKey", "404", "NotFound"}


@dataclass(frozen=True)
class S3Options:
    endpoint: str | None = None
    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None
    path_style: bool = True
    retries: int = 3
    timeout_s: float = 10.0

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> S3Options:
        """From connector config keys; missing credentials fall back to boto3's usual chain
        (AWS_ACCESS_KEY_ID, ~/.aws, instance roles)."""
        def text(key: str) -> str | None:
            value = options.get(key)
            return None if value in (None, "") else str(value)

        path_style = options.get(PATH_STYLE, True)
        if isinstance(path_style, str):
            path_style = path_style.strip().lower() != "false"
        return cls(
            endpoint=text(ENDPOINT),
            region=text(REGION) or "us-east-1",
            access_key=text(ACCESS_KEY),
            secret_key=text(SECRET_KEY),
            session_token=text(SESSION_TOKEN),
            path_style=bool(path_style),
            retries=int(options.get(RETRIES, 3) or 3),
            timeout_s=int(options.get(TIMEOUT_MS, 10_000) or 10_000) / 1000,
        )


class S3Store(ObjectStore):
    def __init__(self, bucket: str, options: S3Options) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.options = options
        self.page_size = 1000  # S3's maximum; tests lower it to exercise continuation
        self.multipart_threshold = 64 << 20  # put_file: larger files go up in parts
        self.multipart_chunksize = 16 << 20  # (tests lower both to S3's 5 MiB minimum)
        where = options.endpoint or f"s3.{options.region}"
        self.description = f"s3://{bucket}/ at {where}"
        config = Config(
            s3={"addressing_style": "path" if options.path_style else "auto"},
            retries={"max_attempts": max(1, options.retries), "mode": "standard"},
            connect_timeout=options.timeout_s,
            read_timeout=max(options.timeout_s, 30.0),
            max_pool_connections=16,
        )
        session = boto3.session.Session()
        self.client = session.client(
            "s3",
            endpoint_url=options.endpoint,
            region_name=options.region,
            aws_access_key_id=options.access_key,
            aws_secret_access_key=options.secret_key,
            aws_session_token=options.session_token,
            config=config,
        )

    def _error(self, exc: Exception, what: str) -> StoreError:
        """One line that names the problem, whatever botocore raised."""
        from botocore.exceptions import (
            ClientError,
            ConnectionClosedError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            ReadTimeoutError,
        )

        if isinstance(exc, StoreError):
            return exc
        if isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ConnectionClosedError):
            return StoreUnreachable(f"cannot reach {self.options.endpoint or 'S3'}: {exc}")
        if isinstance(exc, ReadTimeoutError):
            return StoreUnreachable(f"{self.options.endpoint or 'S3'} did not answer in time: {exc}")
        if isinstance(exc, NoCredentialsError):
            return StoreAuthError("no S3 credentials (set aws.access.key.id/aws.secret.access.key "
                                  "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            message = error.get("Message") or code
            if code in _NO_BUCKET_CODES:
                return BucketNotFound(f"bucket {self.bucket!r} does not exist at "
                                      f"{self.options.endpoint or 'S3'}")
            if code in _AUTH_CODES:
                return StoreAuthError(f"S3 refused the credentials for bucket {self.bucket!r}: "
                                      f"{code}: {message}")
            if code in _NO_KEY_CODES:
                return ObjectNotFound(f"s3://{self.bucket}/{what}: no such object")
            return StoreError(f"S3 {what}: {code}: {message}")
        if isinstance(exc, OSError):
            return StoreUnreachable(f"cannot reach {self.options.endpoint or 'S3'}: {exc}")
        return StoreError(f"S3 {what}: {exc}")

    def put(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
        except Exception as exc:
            raise self._error(exc, key) from exc

    def put_file(self, key: str, file: BinaryIO) -> None:
        """Streams; large files go up as a multipart upload, which S3 makes visible only
        when it completes (still atomic)."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=self.multipart_threshold,
                                multipart_chunksize=self.multipart_chunksize, use_threads=False)
        try:
            self.client.upload_fileobj(file, self.bucket, key, Config=config)
        except Exception as exc:
            raise self._error(exc, key) from exc

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return bytes(response["Body"].read())
        except Exception as exc:
            raise self._error(exc, key) from exc

    def get_range(self, key: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key,
                                              Range=f"bytes={start}-{start + length - 1}")
            return bytes(response["Body"].read())
        except Exception as exc:
            error = self._error(exc, key)
            if "InvalidRange" in str(error):  # S3's answer to a range past the end
                return b""
            raise error from exc

    def list(self, prefix: str = "", start_after: str | None = None) -> Iterator[ObjectInfo]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": self.page_size}
        if start_after:
            kwargs["StartAfter"] = start_after
        try:
            while True:
                page = self.client.list_objects_v2(**kwargs)
                for item in page.get("Contents", []):
                    yield ObjectInfo(item["Key"], int(item["Size"]))
                if not page.get("IsTruncated"):
                    return
                kwargs.pop("StartAfter", None)
                kwargs["ContinuationToken"] = page["NextContinuationToken"]
        except Exception as exc:
            raise self._error(exc, f"list {prefix!r}") from exc

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            error = self._error(exc, key)
            if isinstance(error, ObjectNotFound):
                return None
            raise error from exc
        return ObjectInfo(key, int(response["ContentLength"]))

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._error(exc, key) from exc

    def check(self, prefix: str = "") -> None:
        # ListObjects (not HeadBucket): a HEAD error has no body, so it cannot tell a wrong key
        # from a missing permission; a LIST error carries S3's code.
        try:
            self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        except Exception as exc:
            raise self._error(exc, f"list {prefix!r}") from exc

    def close(self) -> None:
        self.client.close()
