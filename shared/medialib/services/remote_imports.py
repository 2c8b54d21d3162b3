"""Remote import: ``POST /v1/media`` with ``{"urls": [...]}``.

Each URL is fetched SSRF-safe (``adapters/remote_fetch.py``), all of them at once so the request
takes as long as the slowest fetch, never their sum. What arrives is stored and catalogued by the
direct-upload path (``services/direct_uploads.py``: presign's record and rules, the original under
``originals/``, confirm's verdict, then processing), so an imported file is an upload like any
other. A URL that fails is reported with its code and message; the others still succeed.

The numbers keep the request inside the gateway's 29 s: every fetch has ``FETCH_DEADLINE_SECONDS``
(connect included, ``CONNECT_TIMEOUT_SECONDS`` at most) and at most ``max_import_bytes`` decoded
bytes; a larger file is ``too_large`` with a pointer to presign, which has no such bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from medialib.adapters import remote_fetch
from medialib.adapters.remote_fetch import FetchPolicy, Resolver
from medialib.domain.import_urls import ImportRefused
from medialib.domain.media import Media, clean_filename
from medialib.imaging.sniff import SNIFF_BYTES, sniff
from medialib.observability import logger
from medialib.services import direct_uploads
from medialib.services.direct_uploads import DirectFile
from medialib.settings import get_settings

MAX_URLS = 10
FETCH_DEADLINE_SECONDS = 12.0
CONNECT_TIMEOUT_SECONDS = 3.0
MAX_REDIRECTS = 3
FALLBACK_FILENAME = "imported"
# The status a URL's failure has when every URL failed and the first one becomes the answer.
STATUS_OF_CODE = {
    "url_invalid": 400,
    "url_blocked": 400,
    "fetch_failed": 400,
    "fetch_timeout": 400,
    "too_large": 413,
    "unsupported_type": 415,
}
# The direct-upload path's codes for the same failures, in the import vocabulary.
_IMPORT_CODE = {"payload_too_large": "too_large", "unsupported_media_type": "unsupported_type"}


@dataclass(frozen=True)
class UrlFailure:
    url: str
    status: int
    code: str
    message: str


def fetch_policy() -> FetchPolicy:
    """The fetch rules from the settings (loopback only where the local stack allows it)."""
    settings = get_settings()
    return FetchPolicy(
        max_bytes=settings.max_import_bytes,
        deadline_seconds=FETCH_DEADLINE_SECONDS,
        connect_timeout_seconds=CONNECT_TIMEOUT_SECONDS,
        accept_head=lambda head: sniff(head) is not None,
        head_bytes=SNIFF_BYTES,
        max_redirects=MAX_REDIRECTS,
        allow_loopback=settings.allow_loopback_imports,
    )


def import_urls(
    tenant_id: str,
    urls: Sequence[str],
    *,
    folder: str | None,
    alt: str | None,
    resolver: Resolver | None = None,
) -> tuple[list[Media], list[UrlFailure]]:
    """The items made (in the order sent) and the URLs that failed, each on its own
    (``resolver``: the system's, looked up when called, unless given)."""
    policy = fetch_policy()
    resolver = resolver or remote_fetch.system_resolver
    with ThreadPoolExecutor(max_workers=len(urls) or 1, thread_name_prefix="import") as pool:
        outcomes = list(pool.map(lambda url: _fetch_one(url, policy, resolver), urls))
    items: list[Media] = []
    failures: list[UrlFailure] = []
    for url, outcome in zip(urls, outcomes, strict=True):
        if isinstance(outcome, UrlFailure):
            failures.append(outcome)
            continue
        made, failed = direct_uploads.upload_files(tenant_id, [outcome], folder=folder, alt=alt)
        items.extend(made)
        failures.extend(
            UrlFailure(url, f.status, _IMPORT_CODE.get(f.code, f.code), f.message) for f in failed
        )
    logger.info("Remote import", extra={"stored": len(items), "failed": len(failures)})
    return items, failures


def _fetch_one(url: str, policy: FetchPolicy, resolver: Resolver) -> DirectFile | UrlFailure:
    try:
        fetched = remote_fetch.fetch(url, policy, resolver=resolver)
    except ImportRefused as refused:
        return UrlFailure(url, STATUS_OF_CODE.get(refused.code, 400), refused.code, refused.message)
    sniffed = sniff(fetched.data[:SNIFF_BYTES])
    if sniffed is None:  # the fetch judged the head already; kept for a body shorter than it
        return UrlFailure(url, 415, "unsupported_type", "is not an image, video, PDF or GLB file")
    return DirectFile(filename_from_url(fetched.url), sniffed.content_type, fetched.data)


def filename_from_url(url: str) -> str:
    """The URL's last path segment as a display filename, or a fixed name when it has none."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    try:
        return clean_filename(name)
    except ValueError:
        return FALLBACK_FILENAME
