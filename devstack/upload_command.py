"""``medialib upload``: files and directories through presign → storage → confirm, N at a time.

Each file gets an ``Idempotency-Key`` from its SHA-256, its path and this run, so the client's
retries (connection errors, 429, 5xx) never make a second item, while running the command again
later asks for a fresh upload URL instead of replaying one that has since expired.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from devstack.api_client import ApiClient, ApiError

SETTLED = ("ready", "failed")
FAILED = ("failed", "error")
POLL_INTERVAL_S = 0.5
# What confirm is told for each --on-duplicate; "skip" also asks check-duplicates first.
CONFIRM_ON_DUPLICATE = {"skip": "return_existing", "allow": "allow", "reject": "reject"}


@dataclass(frozen=True)
class UploadOptions:
    folder: str | None = None
    tags: tuple[str, ...] = ()
    alt: str | None = None
    on_duplicate: str = "allow"
    wait: bool = True
    wait_timeout_s: float = 120.0


@dataclass
class FileResult:
    file: str
    id: str | None
    status: str  # ready, failed, processing (--no-wait), skipped, or error (the API refused)
    error: str | None = None


def collect_files(paths: Iterable[str]) -> list[Path]:
    """The files named, and every file under the directories named (hidden ones left out)."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {name}")
    return list(dict.fromkeys(files))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def content_type_of(path: Path) -> str:
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class Uploader:
    """Uploads one file at a time per thread; reports its stages and bytes to ``report``."""

    def __init__(self, client: ApiClient, options: UploadOptions, report: Callable[..., None]):
        self.client, self.options, self.report = client, options, report
        self.run_id = uuid.uuid4().hex

    def prepare(self) -> None:
        """Create the folder and any missing tags once, before the files."""
        if self.options.folder:
            try:
                self.client.call("POST", "/v1/folders", json={"path": self.options.folder})
            except ApiError as exc:
                if exc.code != "already_exists":
                    raise
        if self.options.tags:
            known = {tag["slug"] for tag in self.client.call("GET", "/v1/tags")["data"]}
            for slug in self.options.tags:
                if slug not in known:
                    self.client.call("POST", "/v1/tags", json={"name": slug})

    def upload(self, path: Path) -> FileResult:
        try:
            return self._upload(path)
        except ApiError as exc:
            return FileResult(str(path), None, "error", _describe(exc))
        except OSError as exc:
            return FileResult(str(path), None, "error", f"cannot read: {exc.strerror or exc}")

    def _upload(self, path: Path) -> FileResult:
        self.report(path, "hashing")
        sha256, size = sha256_of(path), path.stat().st_size
        idempotency_key = hashlib.sha256(f"{sha256}\0{path.resolve()}\0{self.run_id}".encode()).hexdigest()
        if self.options.on_duplicate == "skip":
            self.report(path, "checking duplicates")
            existing = self._existing_copy(path.name, size, sha256)
            if existing:
                return FileResult(str(path), existing, "skipped", "duplicate of an earlier upload")

        self.report(path, "presigning")
        content_type = content_type_of(path)
        body: dict[str, Any] = {"filename": path.name, "content_type": content_type, "size": size}
        if self.options.folder:
            body["folder"] = self.options.folder
        if self.options.alt:
            body["alt"] = self.options.alt
        answer = self.client.call("POST", "/v1/media/presign", json=body, idempotency_key=idempotency_key)
        presigned = answer["data"]
        try:
            return self._deliver(path, presigned, content_type, idempotency_key)
        except ApiError as exc:  # the item exists from here on (a refused upload stays `failed`)
            return FileResult(str(path), presigned["upload_id"], "error", _describe(exc))

    def _deliver(
        self, path: Path, presigned: dict[str, Any], content_type: str, idempotency_key: str
    ) -> FileResult:
        """Upload, confirm, tag and wait for the presigned upload of ``path``."""
        upload_id, size = presigned["upload_id"], path.stat().st_size
        self.report(path, "uploading")
        self.client.upload_form(
            presigned["url"],
            presigned["fields"],
            path,
            content_type,
            lambda sent: self.report(path, "uploading", sent=sent),
        )

        self.report(path, "confirming", sent=size)
        on_duplicate = CONFIRM_ON_DUPLICATE[self.options.on_duplicate]
        item = self.client.call(
            "POST",
            "/v1/media/confirm",
            json={"upload_id": upload_id, "on_duplicate": on_duplicate},
            idempotency_key=idempotency_key,
        )["data"]
        if item["id"] != upload_id:  # return_existing answered with the earlier copy
            return FileResult(str(path), item["id"], "skipped", "duplicate of an earlier upload")

        for slug in self.options.tags:
            self.report(path, f"tagging {slug}")
            # A key per body: the API refuses one key reused with another body on the same path.
            tag_key = hashlib.sha256(f"{idempotency_key}\0{slug}".encode()).hexdigest()
            self.client.call(
                "POST", f"/v1/media/{upload_id}/tags", json={"slug": slug}, idempotency_key=tag_key
            )
        if self.options.wait and item["status"] not in SETTLED:
            self.report(path, "processing")
            item = self._settled(upload_id)
        error = item.get("error")
        message = (
            f"{error.get('code')}: {error.get('message') or error.get('detail') or ''}" if error else None
        )
        return FileResult(str(path), upload_id, item["status"], message)

    def _existing_copy(self, filename: str, size: int, sha256: str) -> str | None:
        found = self.client.call(
            "POST",
            "/v1/media/check-duplicates",
            json={"files": [{"filename": filename, "size": size, "sha256": sha256}]},
        )["data"]["duplicates"]
        copies = [copy for duplicate in found for copy in duplicate.get("existing", [])]
        return str(copies[0]["id"]) if copies else None

    def _settled(self, media_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.options.wait_timeout_s
        while True:
            item: dict[str, Any] = self.client.call("GET", f"/v1/media/{media_id}")["data"]
            if item["status"] in SETTLED or time.monotonic() > deadline:
                return item
            time.sleep(POLL_INTERVAL_S)


def _describe(exc: ApiError) -> str:
    text = f"{exc.status or 'no answer'} {exc.code}: {exc.detail}"
    existing = exc.body.get("existing")
    if isinstance(existing, dict):
        existing = [existing]
    if existing:
        text += f" (existing: {', '.join(str(copy.get('id')) for copy in existing)})"
    return text


def run_upload(
    client: ApiClient, paths: Sequence[str], options: UploadOptions, *, jobs: int, as_json: bool, out: Console
) -> int:
    files = collect_files(paths)
    if not files:
        raise FileNotFoundError("no files to upload")
    progress = Progress(
        TextColumn("{task.description}", justify="left"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=as_json or not Console(stderr=True).is_terminal,
    )
    tasks: dict[Path, TaskID] = {}
    printing = threading.Lock()

    def report(path: Path, stage: str, sent: int | None = None) -> None:
        if path in tasks:
            progress.update(tasks[path], description=f"{path.name} [dim]{stage}", completed=sent)

    uploader = Uploader(client, options, report)
    with progress:
        overall = progress.add_task("[bold]all files", total=sum(path.stat().st_size for path in files))
        for path in files:
            tasks[path] = progress.add_task(path.name, total=path.stat().st_size)
        uploader.prepare()

        def one(path: Path) -> FileResult:
            result = uploader.upload(path)
            progress.update(tasks[path], description=f"{path.name} [dim]{result.status}")
            progress.advance(overall, path.stat().st_size)
            if as_json:
                with printing:
                    print(json.dumps(asdict(result)), file=out.file, flush=True)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(one, files))
    if not as_json:
        out.print(results_table(results))
    return 1 if any(result.status in FAILED for result in results) else 0


def results_table(results: Sequence[FileResult]) -> Table:
    table = Table("file", "id", "status", "error")
    styles = {"ready": "green", "skipped": "yellow", "processing": "cyan"}
    for result in results:
        style = styles.get(result.status, "red")
        table.add_row(result.file, result.id or "-", f"[{style}]{result.status}", result.error or "")
    return table
