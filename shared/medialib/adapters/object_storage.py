"""The media bucket (S3): presigned uploads, reads of what landed, variants, deletion.

Speaks plain values and domain errors; never an HTTP status. Honours the standard
``AWS_ENDPOINT_URL*`` variables through boto3, so the same code runs against the emulator.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from medialib.domain.errors import Unavailable
from medialib.settings import get_settings

_CHUNK = 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound", "412", "PreconditionFailed"}


@lru_cache(maxsize=1)
def _client() -> Any:
    config = Config(
        signature_version="s3v4",
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=3,
        read_timeout=20,
    )
    return boto3.client("s3", config=config)


def _bucket() -> str:
    return get_settings().media_bucket


def _is_missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code", "") in _MISSING


class _Missing(Exception):
    """The object is not there (or no longer has the asked-for ETag)."""


@contextmanager
def _storage_errors(*, reading: bool = False) -> Iterator[None]:
    """S3's answers as the domain's: when ``reading`` one object, its absence as ``_Missing``
    for the caller to turn into None; everything else (throttling, 5xx, timeouts, and a 404
    where no single object was asked for) as ``Unavailable``."""
    try:
        yield
    except ClientError as error:
        if reading and _is_missing(error):
            raise _Missing from error
        raise Unavailable("Storage is unavailable; retry") from error
    except BotoCoreError as error:
        raise Unavailable("Storage is unavailable; retry") from error


@dataclass(frozen=True)
class StoredObject:
    size: int
    etag: str
    content_type: str | None


@dataclass(frozen=True)
class ObjectRead:
    head: bytes  # the first bytes, for sniffing
    data: bytes | None  # the whole object, when it was asked for
    size: int
    sha256: str
    etag: str


def presign_post(
    key: str, content_type: str, disposition: str, max_size: int, expires_in: int
) -> dict[str, Any]:
    """A browser-friendly POST form bound to this exact key, type, disposition and size range."""
    return _client().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type, "Content-Disposition": disposition},
        Conditions=[
            {"Content-Type": content_type},
            {"Content-Disposition": disposition},
            ["content-length-range", 1, max_size],
        ],
        ExpiresIn=expires_in,
    )


def presign_put(key: str, content_type: str, disposition: str, expires_in: int) -> str:
    """A PUT URL whose signature covers the type and disposition headers the client must send."""
    return _client().generate_presigned_url(
        "put_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "ContentType": content_type,
            "ContentDisposition": disposition,
        },
        ExpiresIn=expires_in,
    )


def stat(key: str) -> StoredObject | None:
    try:
        with _storage_errors(reading=True):
            head = _client().head_object(Bucket=_bucket(), Key=key)
    except _Missing:
        return None
    return StoredObject(head["ContentLength"], head["ETag"].strip('"'), head.get("ContentType"))


def read_head(key: str, length: int) -> bytes | None:
    try:
        with _storage_errors(reading=True):
            response = _client().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{length - 1}")
            return bytes(response["Body"].read())
    except _Missing:
        return None


def read(
    key: str, *, head_length: int, keep_limit: int, etag: str | None = None, spool: IO[bytes] | None = None
) -> ObjectRead | None:
    """Stream the object once: hash it, keep its head, and keep the whole of it only when it is
    at most ``keep_limit`` bytes (so a 1 GB video is hashed, never held in memory). ``spool``,
    when given, receives every byte too (a local file for tools that read from a path)."""
    params: dict[str, Any] = {"Bucket": _bucket(), "Key": key}
    if etag:
        params["IfMatch"] = etag
    try:
        with _storage_errors(reading=True):
            response = _client().get_object(**params)
            size = response["ContentLength"]
            digest = hashlib.sha256()
            keep = size <= keep_limit
            chunks: list[bytes] = []
            head = b""
            if spool is not None:
                spool.seek(0)
                spool.truncate()
            for chunk in response["Body"].iter_chunks(_CHUNK):
                digest.update(chunk)
                if spool is not None:
                    spool.write(chunk)
                if len(head) < head_length:
                    head += chunk[: head_length - len(head)]
                if keep:
                    chunks.append(chunk)
    except _Missing:
        return None
    return ObjectRead(
        head, b"".join(chunks) if keep else None, size, digest.hexdigest(), response["ETag"].strip('"')
    )


def put_variant(key: str, data: bytes) -> None:
    with _storage_errors():
        _client().put_object(
            Bucket=_bucket(),
            Key=key,
            Body=data,
            ContentType="image/webp",
            CacheControl="public, max-age=31536000, immutable",
        )


def put_original(key: str, data: bytes, content_type: str, disposition: str) -> None:
    """An original received through the API (a small direct upload), stored as a presigned
    upload would store it: its declared type and disposition."""
    with _storage_errors():
        _client().put_object(
            Bucket=_bucket(), Key=key, Body=data, ContentType=content_type, ContentDisposition=disposition
        )


def read_range(key: str, offset: int, length: int, *, etag: str | None = None) -> bytes | None:
    """``length`` bytes from ``offset`` (fewer where the object ends), or None when the object
    is gone or no longer has ``etag``. ``offset`` must lie inside the object."""
    params: dict[str, Any] = {
        "Bucket": _bucket(),
        "Key": key,
        "Range": f"bytes={offset}-{offset + length - 1}",
    }
    if etag:
        params["IfMatch"] = etag
    try:
        with _storage_errors(reading=True):
            response = _client().get_object(**params)
            return bytes(response["Body"].read())
    except _Missing:
        return None


def put_derived(key: str, data: bytes, *, content_type: str, disposition: str) -> None:
    """A file made from an original (a sanitised SVG) under the variants prefix: immutable, as
    its key names the original's version."""
    with _storage_errors():
        _client().put_object(
            Bucket=_bucket(),
            Key=key,
            Body=data,
            ContentType=content_type,
            ContentDisposition=disposition,
            CacheControl="public, max-age=31536000, immutable",
        )


def list_keys(prefix: str) -> list[str]:
    keys: list[str] = []
    with _storage_errors():
        paginator = _client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=_bucket(), Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def delete_keys(keys: Iterable[str]) -> None:
    """Delete up to any number of keys; deleting a missing key is not an error in S3."""
    pending = sorted(set(keys))
    for start in range(0, len(pending), 1000):
        batch = [{"Key": key} for key in pending[start : start + 1000]]
        with _storage_errors():
            response = _client().delete_objects(Bucket=_bucket(), Delete={"Objects": batch, "Quiet": True})
        if response.get("Errors"):
            raise Unavailable("Storage did not delete every object; retry")


def delete_prefixes(prefixes: Iterable[str]) -> None:
    for prefix in prefixes:
        delete_keys(list_keys(prefix))
