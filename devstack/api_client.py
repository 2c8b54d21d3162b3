"""A small HTTP client of the media library API for the ``medialib`` command.

Every call retries with exponential backoff on connection errors, 429 and 5xx (honouring
``Retry-After``); any other error status raises :class:`ApiError` with the problem's ``code``
and ``detail``. One ``requests.Session`` per thread, so several uploads can run at once.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import requests

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_CAP_S = 30.0
TIMEOUT_S = 30.0
CHUNK_BYTES = 64 * 1024


class ApiError(Exception):
    """An answer the API (or storage) gave that is not a success, or no answer at all."""

    def __init__(self, status: int | None, code: str, detail: str, body: dict[str, Any] | None = None):
        super().__init__(f"{status or '-'} {code}: {detail}")
        self.status, self.code, self.detail, self.body = status, code, detail, body or {}


@dataclass(frozen=True)
class Connection:
    api: str
    key: str

    @classmethod
    def from_options(cls, api: str | None, key: str | None) -> Connection:
        """``--api``/``--key``, else MEDIALIB_API (or MEDIALIB_URL, which ``make dev`` prints)
        and MEDIALIB_KEY."""
        api = api or os.environ.get("MEDIALIB_API") or os.environ.get("MEDIALIB_URL")
        key = key or os.environ.get("MEDIALIB_KEY")
        if not api:
            raise ApiError(None, "no_api", "give --api or set MEDIALIB_API (e.g. http://127.0.0.1:3000)")
        if not key:
            raise ApiError(None, "no_key", "give --key or set MEDIALIB_KEY")
        return cls(api.rstrip("/"), key)


class ApiClient:
    def __init__(self, connection: Connection, *, attempts: int = 6, backoff_s: float = 0.25):
        self.connection = connection
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._local = threading.local()

    @property
    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        session: requests.Session = self._local.session
        return session

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The JSON body of a 2xx answer (``{}`` for 204)."""
        headers = {"Authorization": f"Bearer {self.connection.key}", "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = f"{self.connection.api}{path}"

        def send() -> requests.Response:
            return self._session.request(
                method, url, json=json, params=params, headers=headers, timeout=TIMEOUT_S
            )

        response = self._with_retries(send)
        if response.status_code == 204 or not response.content:
            return {}
        body: dict[str, Any] = response.json()
        return body

    def upload_form(
        self, url: str, fields: dict[str, str], path: Path, content_type: str, on_bytes: Callable[[int], None]
    ) -> None:
        """POST the presigned form to storage, the file last; ``on_bytes`` gets the file's bytes sent
        so far in this attempt."""

        def send() -> requests.Response:
            body = MultipartFile(fields, path, content_type, on_bytes)
            try:
                return self._session.post(
                    url, data=body, headers={"Content-Type": body.content_type}, timeout=TIMEOUT_S * 4
                )
            finally:
                body.close()

        self._with_retries(send)

    def _with_retries(self, send: Callable[[], requests.Response]) -> requests.Response:
        for attempt in range(1, self.attempts + 1):
            delay = self.backoff_s * 2 ** (attempt - 1)
            try:
                response = send()
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self.attempts:
                    raise ApiError(None, "unreachable", str(exc)) from exc
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRY_STATUSES or attempt == self.attempts:
                    raise _error_of(response)
                delay = max(delay, _retry_after(response))
            time.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns or raises


def _retry_after(response: requests.Response) -> float:
    try:
        return min(float(response.headers.get("Retry-After", 0)), RETRY_AFTER_CAP_S)
    except ValueError:  # an HTTP date: not worth parsing for a local tool
        return 1.0


def _error_of(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        return ApiError(response.status_code, str(body["code"]), str(body.get("detail", "")), body)
    # Storage answers XML; keep the first line of what it said.
    text = response.text.strip().splitlines()[0][:200] if response.text.strip() else response.reason
    return ApiError(response.status_code, "http_error", text)


class MultipartFile:
    """A multipart/form-data body (the fields, then the file) read in chunks, with a known length,
    so the upload streams from disk and reports its progress."""

    def __init__(
        self, fields: dict[str, str], path: Path, content_type: str, on_bytes: Callable[[int], None]
    ):
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        head += (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{_quoted(path.name)}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._parts: list[bytes | IO[bytes]] = [head, path.open("rb"), f"\r\n--{boundary}--\r\n".encode()]
        self._length = len(head) + path.stat().st_size + len(self._parts[2])  # type: ignore[arg-type]
        self._on_bytes = on_bytes
        self._sent = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        size = CHUNK_BYTES if size is None or size < 0 else size
        while self._parts:
            part = self._parts[0]
            if isinstance(part, bytes):
                chunk, rest = part[:size], part[size:]
                if rest:
                    self._parts[0] = rest
                else:
                    self._parts.pop(0)
                if chunk:
                    return chunk
                continue
            chunk = part.read(size)
            if chunk:
                self._sent += len(chunk)
                self._on_bytes(self._sent)
                return chunk
            part.close()
            self._parts.pop(0)
        return b""

    def close(self) -> None:
        for part in self._parts:
            if not isinstance(part, bytes):
                part.close()


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
