"""``medialib upload``, ``ls`` and ``rm`` as a person runs them, against the local stack."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.e2e.client import auth

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def medialib(stack, key: str, *args: str, api: str | None = None) -> subprocess.CompletedProcess[str]:
    # The API and key come from the environment, as a developer's shell would export them.
    env = {**stack.env, "MEDIALIB_API": api or stack.api_url, "MEDIALIB_KEY": key}
    return subprocess.run(
        [sys.executable, "-m", "devstack.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


def json_lines(result: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def new_tenant_key(stack) -> str:
    return stack.new_key(f"t-cli-{uuid.uuid4().hex[:10]}")


def image(path: Path, fmt: str = "JPEG", size=(640, 480), shade: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gradient = Image.linear_gradient("L").resize(size)
    Image.merge("RGB", (gradient, gradient.rotate(90), Image.new("L", size, shade))).save(path, fmt)
    return path


def test_one_file_is_uploaded_processed_and_reported(stack, tmp_path):
    key = new_tenant_key(stack)
    photo = image(tmp_path / "summer photo.jpg")

    result = medialib(stack, key, "upload", str(photo), "--alt", "A summer photo", "--json")

    assert result.returncode == 0, result.stderr
    [line] = json_lines(result)
    assert line["file"] == str(photo) and line["status"] == "ready" and line["error"] is None
    item = requests.get(f"{stack.api_url}/v1/media/{line['id']}", headers=auth(key), timeout=10).json()[
        "data"
    ]
    assert item["filename"] == "summer photo.jpg" and item["alt"] == "A summer photo"
    assert item["status"] == "ready" and item["size"] == photo.stat().st_size and item["variants"]


def test_a_directory_of_mixed_files_reports_the_unsupported_one_and_exits_1(stack, tmp_path):
    key = new_tenant_key(stack)
    image(tmp_path / "assets" / "hero.jpg")
    image(tmp_path / "assets" / "icons" / "logo.png", "PNG", size=(120, 120))
    (tmp_path / "assets" / "icons" / "notes.txt").write_text("not a picture\n")
    (tmp_path / "assets" / "fake.jpg").write_text("text named like a photo\n")
    (tmp_path / "assets" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # hidden: left out

    result = medialib(stack, key, "upload", str(tmp_path / "assets"), "--jobs", "3")

    assert result.returncode == 1, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert set(rows) == {
        str(tmp_path / "assets" / name)
        for name in ("fake.jpg", "hero.jpg", "icons/logo.png", "icons/notes.txt")
    }
    # Accepted at presign, refused at confirm once the stored bytes are sniffed.
    fake = rows[str(tmp_path / "assets" / "fake.jpg")]
    assert "415 unsupported_media_type: The uploaded file" in fake and "med_" in fake
    assert "ready" in rows[str(tmp_path / "assets" / "hero.jpg")]
    assert "ready" in rows[str(tmp_path / "assets" / "icons" / "logo.png")]
    failed = rows[str(tmp_path / "assets" / "icons" / "notes.txt")]
    assert "error" in failed and "415 unsupported_media_type" in failed and "text/plain" in failed
    listed = requests.get(f"{stack.api_url}/v1/media", headers=auth(key), timeout=10).json()
    statuses = {item["filename"]: item["status"] for item in listed["data"]}
    assert statuses == {"fake.jpg": "failed", "hero.jpg": "ready", "logo.png": "ready"}


def test_duplicates_are_skipped_or_rejected_as_asked(stack, tmp_path):
    key = new_tenant_key(stack)
    photo = image(tmp_path / "mug.jpg", shade=40)
    first = json_lines(medialib(stack, key, "upload", str(photo), "--json"))[0]
    copy = tmp_path / "again" / "mug copy.jpg"
    copy.parent.mkdir()
    copy.write_bytes(photo.read_bytes())

    skipped = medialib(stack, key, "upload", str(copy), "--on-duplicate", "skip", "--json")
    rejected = medialib(stack, key, "upload", str(copy), "--on-duplicate", "reject", "--json")

    assert skipped.returncode == 0, skipped.stderr
    assert json_lines(skipped)[0] | {"error": None} == {
        "file": str(copy),
        "id": first["id"],
        "status": "skipped",
        "error": None,
    }
    assert rejected.returncode == 1
    [line] = json_lines(rejected)
    assert line["status"] == "error" and line["error"].startswith("409 duplicate")
    assert first["id"] in line["error"]
    listed = medialib(stack, key, "ls", "--json")
    assert [item["id"] for item in json_lines(listed)] == [first["id"]]


def test_ls_filters_and_rm_refuses_an_item_in_use_unless_forced(stack, tmp_path):
    key = new_tenant_key(stack)
    image(tmp_path / "shots" / "red mug.jpg", shade=10)
    image(tmp_path / "shots" / "blue plate.png", "PNG", shade=200)
    uploaded = medialib(
        stack,
        key,
        "upload",
        str(tmp_path / "shots"),
        "--folder",
        "/products",
        "--tag",
        "brand",
        "--tag",
        "sale",
        "--json",
    )
    assert uploaded.returncode == 0, uploaded.stdout + uploaded.stderr
    ids = {Path(line["file"]).name: line["id"] for line in json_lines(uploaded)}
    medialib(stack, key, "upload", str(image(tmp_path / "elsewhere.jpg", shade=90)), "--json")

    tagged = medialib(stack, key, "ls", "--tag", "brand", "--folder", "/products", "--json")
    found = medialib(stack, key, "ls", "--query", "mug")
    everything = medialib(stack, key, "ls")

    assert tagged.returncode == 0, tagged.stderr
    assert sorted(item["id"] for item in json_lines(tagged)) == sorted(ids.values())
    assert all(
        sorted(item["tags"]) == ["brand", "sale"] and item["folder"] == "/products"
        for item in json_lines(tagged)
    )
    assert ids["red mug.jpg"] in found.stdout and ids["blue plate.png"] not in found.stdout
    assert "3 of 3 items" in everything.stdout and "elsewhere.jpg" in everything.stdout

    in_use = ids["red mug.jpg"]
    attached = requests.put(
        f"{stack.api_url}/v1/entities/product/p1/media",
        json={"media_ids": [in_use]},
        headers=auth(key),
        timeout=10,
    )
    assert attached.status_code == 200, attached.text
    refused = medialib(stack, key, "rm", in_use)
    assert refused.returncode == 1
    assert "409 in_use" in refused.stderr and "product/p1" in refused.stderr and "--force" in refused.stderr
    assert (
        requests.get(f"{stack.api_url}/v1/media/{in_use}", headers=auth(key), timeout=10).status_code == 200
    )

    forced = medialib(stack, key, "rm", in_use, "--force")
    unused = medialib(stack, key, "rm", ids["blue plate.png"])

    assert forced.returncode == 0 and unused.returncode == 0, forced.stderr + unused.stderr
    assert (
        requests.get(f"{stack.api_url}/v1/media/{in_use}", headers=auth(key), timeout=10).status_code == 404
    )
    assert [item["filename"] for item in json_lines(medialib(stack, key, "ls", "--json"))] == [
        "elsewhere.jpg"
    ]


# ---------------------------------------------------------------- a flaky network in front of the API
class FlakyProxy(http.server.ThreadingHTTPServer):
    """Forwards to the API, but loses the answers to the first presign (the client gets a 503 with
    Retry-After) and to the first confirm (a 502): the API did the work both times."""

    daemon_threads = True

    def __init__(self, upstream: str):
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.upstream = upstream
        self.seen: Counter[str] = Counter()
        self.upload_ids: list[str] = []  # what the API answered each presign
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    server: FlakyProxy

    def log_message(self, *args) -> None:  # quiet
        pass

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = f"{self.command} {self.path.split('?')[0]}"
        with self.server.lock:
            self.server.seen[route] += 1
            attempt = self.server.seen[route]
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(
            self.command, self.server.upstream + self.path, data=body, headers=headers, timeout=30
        )
        if route == "POST /v1/media/presign":
            with self.server.lock:
                self.server.upload_ids.append(upstream.json()["data"]["upload_id"])
            if attempt == 1:
                return self._answer(503, {"Retry-After": "0"}, b"")
        if route == "POST /v1/media/confirm" and attempt == 1:
            return self._answer(502, {}, b"bad gateway")
        kept = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding", "content-encoding", "connection")
        }
        return self._answer(upstream.status_code, kept, upstream.content)

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


@pytest.fixture
def flaky_proxy(stack) -> Iterator[FlakyProxy]:
    proxy = FlakyProxy(stack.api_url)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        thread.join(timeout=10)
        proxy.server_close()


def test_retries_after_failures_make_exactly_one_item(stack, tmp_path, flaky_proxy):
    key = new_tenant_key(stack)
    photo = image(tmp_path / "flaky.jpg", shade=150)

    result = medialib(stack, key, "upload", str(photo), "--json", api=flaky_proxy.url)

    assert result.returncode == 0, result.stdout + result.stderr
    [line] = json_lines(result)
    assert line["status"] == "ready", line
    assert flaky_proxy.seen["POST /v1/media/presign"] == 2  # the lost answer, then the retry
    # The retry carried the same Idempotency-Key, so the API replayed the first upload.
    assert flaky_proxy.upload_ids == [line["id"], line["id"]]
    assert flaky_proxy.seen["POST /v1/media/confirm"] == 2  # the lost answer, then the retry
    listed = requests.get(f"{stack.api_url}/v1/media", headers=auth(key), timeout=10).json()
    assert listed["media_ids"] == [line["id"]]
    assert listed["pagination"]["total"] == 1


def test_without_a_key_or_api_the_command_says_what_to_set(stack, tmp_path):
    photo = image(tmp_path / "x.jpg")
    env = {k: v for k, v in stack.env.items() if not k.startswith("MEDIALIB_")}

    result = subprocess.run(
        [sys.executable, "-m", "devstack.cli", "upload", str(photo), "--api", stack.api_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    bad_key = medialib(stack, "mlk_AAAAAAAAAAAAAAAA_wrong", "ls")

    assert result.returncode == 1 and "MEDIALIB_KEY" in result.stderr and "Traceback" not in result.stderr
    assert bad_key.returncode == 1 and "401" in bad_key.stderr
