"""The ``medialib`` command, in-process under mock_aws and as a process against a moto server."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from devstack.cli import main
from medialib.domain.errors import Unauthorized
from medialib.services import api_keys
from tests.support.tables import create_tables_from_template

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_TABLES = ["TenantsTable", "ApiKeysTable"]


def run(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def create_key(capsys, *extra: str) -> tuple[str, list[str]]:
    argv = ["keys", "create", "--tenant", "acme", "--scopes", "media:read,media:write", *extra]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return out[-1], out


def test_keys_create_prints_the_key_alone_on_the_last_line(dynamodb, capsys):
    key, out = create_key(capsys, "--label", "CMS")

    key_id, _ = api_keys.parse_key(key)  # the whole last line is the key
    assert any(key_id in line for line in out[:-1])
    assert any("acme" in line for line in out[:-1])
    assert any("media:read media:write" in line for line in out[:-1])
    assert sum(key in line for line in out) == 1
    principal = api_keys.authenticate(f"Bearer {key}")
    assert principal.tenant_id == "acme" and principal.scopes == {"media:read", "media:write"}


def test_keys_create_accepts_spaces_around_scopes(dynamodb, capsys):
    code, out, _ = run(capsys, "keys", "create", "--tenant", "acme", "--scopes", "media:read, media:delete")

    assert code == 0
    assert api_keys.authenticate(f"Bearer {out[-1]}").scopes == {"media:read", "media:delete"}


def test_revoke_then_the_key_no_longer_authenticates(dynamodb, capsys):
    key, _ = create_key(capsys)
    key_id, _ = api_keys.parse_key(key)

    code, out, err = run(capsys, "keys", "revoke", key_id)

    assert code == 0, err
    assert key_id in out[0] and "revoked" in out[0]
    with pytest.raises(Unauthorized):
        api_keys.authenticate(f"Bearer {key}")
    # Idempotent.
    assert run(capsys, "keys", "revoke", key_id)[0] == 0


def test_keys_list_shows_ids_scopes_and_times_but_no_secret(dynamodb, capsys):
    first, _ = create_key(capsys)
    second, _ = create_key(capsys, "--label", "mobile app")
    first_id, first_secret = api_keys.parse_key(first)
    second_id, second_secret = api_keys.parse_key(second)
    run(capsys, "keys", "revoke", first_id)

    code, out, _ = run(capsys, "keys", "list", "--tenant", "acme")

    assert code == 0
    assert out[0].split() == ["KEY_ID", "SCOPES", "CREATED_AT", "REVOKED_AT", "LABEL"]
    assert out[1].split()[:2] == [first_id, "media:read,media:write"]
    assert out[1].split()[3].endswith("Z")  # revoked_at
    assert out[2].split()[3] == "-" and out[2].endswith("mobile app")
    listing = "\n".join(out)
    assert first_secret not in listing and second_secret not in listing and second_id in listing
    assert api_keys.hash_secret(first_secret) not in listing


def test_tenants_commands(dynamodb, capsys):
    assert run(capsys, "tenants", "create", "acme")[0] == 0
    assert api_keys.is_public("acme") is False

    code, out, _ = run(capsys, "tenants", "update", "acme", "--public", "on")
    assert code == 0 and "public: on" in out[0]
    assert api_keys.is_public("acme") is True

    assert run(capsys, "tenants", "create", "globex", "--public")[0] == 0
    code, out, _ = run(capsys, "tenants", "list")
    assert code == 0
    assert [line.split()[:2] for line in out] == [["TENANT_ID", "PUBLIC"], ["acme", "on"], ["globex", "on"]]

    run(capsys, "tenants", "update", "acme", "--public", "off")
    code, out, _ = run(capsys, "tenants", "show", "acme")
    assert code == 0 and out[1].split()[:2] == ["acme", "off"]


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["keys", "create", "--tenant", "Not Valid", "--scopes", "media:read"], 2, "Invalid tenant id"),
        (["keys", "create", "--tenant", "acme", "--scopes", "media:admin"], 2, "media:admin"),
        (["keys", "create", "--tenant", "acme", "--scopes", ","], 2, "At least one scope"),
        (["keys", "revoke", "AAAAAAAAAAAAAAAA"], 1, "API key not found"),
        (["tenants", "update", "ghost", "--public", "on"], 1, "Tenant not found"),
        (["tenants", "show", "ghost"], 1, "Tenant not found"),
    ],
)
def test_expected_errors_are_one_line_on_stderr_with_an_exit_code(dynamodb, capsys, argv, code, message):
    result, out, err = run(capsys, *argv)

    assert result == code
    assert out == []
    assert message in err and "Traceback" not in err
    assert dynamodb.scan(TableName="medialib-api-keys")["Count"] == 0


def test_creating_an_existing_tenant_fails(dynamodb, capsys):
    run(capsys, "tenants", "create", "acme")

    code, _, err = run(capsys, "tenants", "create", "acme")

    assert code == 1 and "already exists" in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as raised:
        main(["keys", "create", "--tenant", "acme"])  # no --scopes
    assert raised.value.code == 2
    with pytest.raises(SystemExit) as raised:
        main(["tenants", "update", "acme", "--public", "maybe"])
    assert raised.value.code == 2


# ---------------------------------------------------------------- as a process, like a developer runs it
def _clean_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
    )
    env.update(extra)
    return env


def _cli(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devstack.cli", *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_follows_aws_endpoint_url_with_no_region_configured():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))  # noqa: S310
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        create_tables_from_template(client, names=ACCOUNT_TABLES)
        env = _clean_env(AWS_ENDPOINT_URL=endpoint)

        created = _cli(env, "keys", "create", "--tenant", "devshop", "--scopes", "media:read")
        assert created.returncode == 0, created.stderr
        key = created.stdout.splitlines()[-1]
        key_id, _ = api_keys.parse_key(key)
        item = client.get_item(TableName="medialib-api-keys", Key={"key_id": {"S": key_id}})["Item"]
        assert item["tenant_id"]["S"] == "devshop"

        listed = _cli(env, "keys", "list", "--tenant", "devshop")
        assert listed.returncode == 0 and key_id in listed.stdout and key not in listed.stdout
    finally:
        server.stop()


def test_an_unreachable_endpoint_is_a_clear_error_not_a_traceback():
    env = _clean_env(AWS_ENDPOINT_URL="http://127.0.0.1:9")  # discard port: nothing listens

    result = _cli(env, "tenants", "list")

    assert result.returncode == 1
    assert "unavailable" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- upload, ls and rm: HTTP clients of the API
class StubApi(http.server.ThreadingHTTPServer):
    """Answers each request with the next of ``answers`` (status, headers, JSON body), recording it."""

    daemon_threads = True

    def __init__(self, answers: list[tuple[int, dict[str, str], dict]]):
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.answers = answers
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StubHandler(http.server.BaseHTTPRequestHandler):
    server: StubApi

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        status, headers, body = self.server.answers.pop(0)
        payload = json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_DELETE = do_GET


@pytest.fixture
def stub_api():
    servers: list[StubApi] = []

    def start(*answers: tuple[int, dict[str, str], dict]) -> StubApi:
        server = StubApi(list(answers))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


PAGE = {
    "data": [],
    "media_ids": [],
    "pagination": {"limit": 100, "offset": 0, "total": 0, "next_cursor": None},
}
ITEM = {
    "id": "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
    "filename": "mug.jpg",
    "kind": "image",
    "status": "ready",
    "size": 10,
    "folder": "/",
    "tags": [],
    "created_at": "2026-01-01T00:00:00.000Z",
}


def test_ls_takes_the_api_from_medialib_url_and_retries_429_and_5xx(stub_api, capsys, monkeypatch):
    server = stub_api(
        (429, {"Retry-After": "0"}, {"code": "throttled", "detail": "slow down"}),
        (503, {}, {"code": "unavailable", "detail": "try again"}),
        (200, {}, {**PAGE, "data": [ITEM], "pagination": {**PAGE["pagination"], "total": 1}}),
    )
    monkeypatch.delenv("MEDIALIB_API", raising=False)
    monkeypatch.setenv("MEDIALIB_URL", server.url)  # the name earlier versions printed
    monkeypatch.setenv("MEDIALIB_KEY", "mlk_key")

    code, out, err = run(capsys, "ls", "--json", "--tag", "a", "--tag", "b", "--query", "mug")

    assert code == 0, err
    assert [json.loads(line)["id"] for line in out] == [ITEM["id"]]
    assert len(server.requests) == 3
    _, path, headers = server.requests[-1]
    assert path.startswith("/v1/media?") and "tag=a%2Cb" in path and "query=mug" in path
    assert headers["Authorization"] == "Bearer mlk_key"


def test_a_problem_is_not_retried_and_is_one_line_on_stderr(stub_api, capsys):
    server = stub_api(
        (
            409,
            {},
            {
                "code": "in_use",
                "detail": "The media is attached",
                "used_by": [{"type": "product", "id": "p1"}],
            },
        )
    )

    code, out, err = run(capsys, "rm", ITEM["id"], "--api", server.url, "--key", "mlk_key")

    assert code == 1 and out == []
    assert "409 in_use" in err and "product/p1" in err and "--force" in err
    assert [(method, path) for method, path, _ in server.requests] == [("DELETE", f"/v1/media/{ITEM['id']}")]


def test_media_commands_need_an_api_a_key_and_existing_paths(capsys, monkeypatch, tmp_path):
    for name in ("MEDIALIB_API", "MEDIALIB_URL", "MEDIALIB_KEY"):
        monkeypatch.delenv(name, raising=False)

    code, _, err = run(capsys, "ls")
    assert code == 1 and "MEDIALIB_API" in err
    code, _, err = run(capsys, "ls", "--api", "http://127.0.0.1:9")
    assert code == 1 and "MEDIALIB_KEY" in err
    code, _, err = run(
        capsys, "upload", str(tmp_path / "missing.jpg"), "--api", "http://127.0.0.1:9", "--key", "k"
    )
    assert code == 2 and "missing.jpg" in err
