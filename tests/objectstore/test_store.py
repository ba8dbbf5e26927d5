"""One storage test-suite, run against both backends: a local folder and a real S3 server
(moto, a separate process on 127.0.0.1)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fjord.objectstore.factory import open_store
from fjord.objectstore.local import LocalStore
from fjord.objectstore.location import parse_location
from fjord.objectstore.s3 import S3Options, S3Store
from fjord.objectstore.store import (
    BucketNotFound,
    InvalidLocation,
    ObjectNotFound,
    ObjectStore,
    StoreAuthError,
    StoreUnreachable,
)
from tests.support.moto_server import MotoServer


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalStore(tmp_path / "root")
        return
    server: MotoServer = request.getfixturevalue("moto_server")
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    server.create_bucket(bucket)
    s3 = S3Store(bucket, S3Options.from_mapping(server.store_options()))
    yield s3
    s3.close()


def test_put_get_is_byte_exact_and_overwrites(store: ObjectStore) -> None:
    data = bytes(range(256)) * 100 + b"\x00\xff\r\n"
    store.put("a/b/c.bin", data)
    assert store.get("a/b/c.bin") == data
    store.put("a/b/c.bin", b"second")
    assert store.get("a/b/c.bin") == b"second"
    store.put("empty", b"")
    assert store.get("empty") == b""
    head = store.head("a/b/c.bin")
    assert head is not None and head.size == 6
    assert store.head("a/b/missing") is None


def test_ranged_reads(store: ObjectStore) -> None:
    data = os.urandom(300_000)
    store.put("r/obj", data)
    assert store.get_range("r/obj", 0, 10) == data[:10]
    assert store.get_range("r/obj", 123_456, 70_000) == data[123_456:193_456]
    assert store.get_range("r/obj", 299_990, 100) == data[299_990:]  # short at the end
    assert store.get_range("r/obj", 300_000, 10) == b""
    with pytest.raises(ObjectNotFound):
        store.get_range("r/missing", 0, 10)


def test_put_file_streams_a_file(store: ObjectStore, tmp_path: Path) -> None:
    if isinstance(store, S3Store):  # a multipart upload of three parts (S3's minimum part: 5 MiB)
        store.multipart_threshold = store.multipart_chunksize = 8 * 1024 * 1024
    data = os.urandom(20 * 1024 * 1024 + 17)
    source = tmp_path / "source"
    source.write_bytes(data)
    with open(source, "rb") as file:
        store.put_file("f/segment.log", file)
    assert store.get("f/segment.log") == data
    with open(source, "rb") as file:
        store.put_file("f/segment.log", file)  # replaces, like put
    assert store.head("f/segment.log").size == len(data)  # type: ignore[union-attr]
    if isinstance(store, S3Store):  # S3 marks a multipart object's ETag with its part count
        etag = store.client.head_object(Bucket=store.bucket, Key="f/segment.log")["ETag"]
        assert etag.endswith('-3"'), etag


def test_large_object(store: ObjectStore) -> None:
    data = os.urandom(9 * 1024 * 1024)
    store.put("big/object", data)
    assert store.get("big/object") == data


def test_missing_object(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("nothing/here")


def test_list_is_sorted_and_filtered_by_string_prefix(store: ObjectStore) -> None:
    keys = ["t/partition=1/t+1+00000000000000000010.jsonl",
            "t/partition=0/t+0+00000000000000000100.jsonl",
            "t/partition=0/t+0+00000000000000000000.jsonl",
            "t2/partition=0/x", "runs/r/1.json", "top"]
    for key in keys:
        store.put(key, key.encode())
    assert [o.key for o in store.list()] == sorted(keys)
    assert [o.key for o in store.list("t/")] == sorted(k for k in keys if k.startswith("t/"))
    # a prefix may end in the middle of a name, as in S3
    assert [o.key for o in store.list("t/partition=0/t+0+0000000000000000010")] == [
        "t/partition=0/t+0+00000000000000000100.jsonl"]
    assert [o.key for o in store.list("t")] == sorted(k for k in keys if k.startswith("t"))
    after = [o.key for o in store.list("t/", start_after="t/partition=0/t+0+00000000000000000000.jsonl")]
    assert after == ["t/partition=0/t+0+00000000000000000100.jsonl",
                     "t/partition=1/t+1+00000000000000000010.jsonl"]
    assert [o.size for o in store.list("top")] == [3]
    assert list(store.list("nope/")) == []


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put("x/y", b"1")
    store.delete("x/y")
    store.delete("x/y")
    assert store.head("x/y") is None
    assert list(store.list("x/")) == []


def test_check_passes_on_a_usable_store(store: ObjectStore) -> None:
    store.check()
    store.check("some/prefix/")


def test_many_objects_list_across_pages(store: ObjectStore) -> None:
    # S3 answers a page of keys at a time: the listing must follow continuation tokens
    if isinstance(store, S3Store):
        store.page_size = 7
    for i in range(30):
        store.put(f"p/{i:05d}", b"")
    assert [o.key for o in store.list("p/")] == [f"p/{i:05d}" for i in range(30)]
    assert [o.key for o in store.list("p/", start_after="p/00003")] == [f"p/{i:05d}" for i in range(4, 30)]


# ---- backend-specific failure modes -------------------------------------------------------


def test_local_put_leaves_no_temporary_and_ignores_crash_leftovers(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.put("d/obj", b"data")
    assert sorted(os.listdir(tmp_path / "root" / "d")) == ["obj"]
    # what a SIGKILL between write and rename leaves behind is never an object
    (tmp_path / "root" / "d" / ".obj2.fjord-tmp-deadbeef").write_bytes(b"torn")
    assert [o.key for o in store.list()] == ["d/obj"]


def test_local_refuses_escaping_keys(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    with pytest.raises(Exception, match="invalid object key"):
        store.put("../evil", b"x")


def test_local_check_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(BucketNotFound, match="does not exist"):
        LocalStore(tmp_path / "missing" / "root").check()


def test_s3_wrong_credentials(moto_server: MotoServer) -> None:
    moto_server.create_bucket("creds-check")
    options = dict(moto_server.store_options(), **{"aws.access.key.id": "AKIAWRONGWRONGWRONG0"})
    with pytest.raises(StoreAuthError, match="InvalidAccessKeyId"):
        S3Store("creds-check", S3Options.from_mapping(options)).check()
    options = dict(moto_server.store_options(), **{"aws.secret.access.key": "wrong"})
    with pytest.raises(StoreAuthError, match="SignatureDoesNotMatch"):
        S3Store("creds-check", S3Options.from_mapping(options)).check()


def test_s3_missing_bucket(moto_server: MotoServer) -> None:
    with pytest.raises(BucketNotFound, match="'no-such-bucket' does not exist"):
        S3Store("no-such-bucket", S3Options.from_mapping(moto_server.store_options())).check()


def test_s3_unreachable_endpoint() -> None:
    from tests.support.broker import free_port

    options = S3Options(endpoint=f"http://127.0.0.1:{free_port()}", access_key="a", secret_key="b",
                        retries=1, timeout_s=2)
    with pytest.raises(StoreUnreachable, match="cannot reach"):
        S3Store("bucket", options).check()


# ---- locations ----------------------------------------------------------------------------


def test_parse_location() -> None:
    assert parse_location("s3://bkt/").prefix == ""
    assert parse_location("s3://bkt").prefix == ""
    loc = parse_location("s3://bkt/a/b/")
    assert (loc.scheme, loc.bucket, loc.prefix) == ("s3", "bkt", "a/b/")
    loc = parse_location("file:///var/backups/fjord/")
    assert (loc.scheme, loc.bucket, loc.prefix) == ("file", "/var/backups/fjord", "")
    for bad, why in [("s3://bkt/a/b", "must end with '/'"), ("file:///var/backups", "must end with '/'"),
                     ("s3:///x/", "no bucket"), ("ftp://h/x/", "unsupported"),
                     ("s3://bkt/a//b/", "empty path segment")]:
        with pytest.raises(InvalidLocation, match=why):
            parse_location(bad)


def test_open_store_picks_the_backend(tmp_path: Path, moto_server: MotoServer) -> None:
    local = open_store(parse_location(f"file://{tmp_path}/x/"))
    assert isinstance(local, LocalStore) and local.root == tmp_path / "x"
    s3 = open_store(parse_location("s3://bkt/p/"), moto_server.store_options())
    assert isinstance(s3, S3Store) and s3.bucket == "bkt"
