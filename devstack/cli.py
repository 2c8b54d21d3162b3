"""The ``medialib`` command: API keys and tenants, and uploading, listing and deleting media.

It talks to whatever the standard AWS configuration points at: ``AWS_ENDPOINT_URL`` for the
local stack or LocalStack, real AWS otherwise (region from the AWS configuration, else
us-east-1). Table names are the settings' (``TENANTS_TABLE``, ``KEYS_TABLE``); where the
environment names none, the command uses the names template.yaml gives stack ``medialib``,
which are the local stack's too.

    medialib keys create --tenant acme --scopes media:read,media:write [--label "CMS"]
    medialib keys list --tenant acme
    medialib keys revoke KEY_ID
    medialib keys sync-usage-plan        # AWS: add keys created before the usage plan to it
    medialib tenants create acme [--public]
    medialib tenants update acme --public on|off
    medialib tenants show acme
    medialib tenants list

Keys and tenants are written to DynamoDB directly. ``upload``, ``ls`` and ``rm`` are clients
of the HTTP API instead: ``--api``/``--key``, else MEDIALIB_API (or MEDIALIB_URL) and MEDIALIB_KEY.

    medialib upload PATH... [--folder /x] [--tag slug]... [--alt TEXT]
                    [--on-duplicate skip|allow|reject] [--jobs 4] [--no-wait] [--json]
    medialib ls [--folder /x] [--tag slug]... [--query words] [--limit 100] [--json]
    medialib rm MEDIA_ID [--force]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medialib",
        description="Manage media library API keys and tenants; upload, list and delete media.",
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="{keys,tenants,upload,ls,rm}")

    keys = groups.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(
        dest="command", required=True, metavar="{create,list,revoke,sync-usage-plan}"
    )
    create = key_commands.add_parser(
        "create", help="create a key (and its tenant if missing); the key is printed once, on the last line"
    )
    create.add_argument("--tenant", required=True, help="tenant id, e.g. acme")
    create.add_argument(
        "--scopes",
        required=True,
        help="comma-separated: media:read,media:write,media:delete",
    )
    create.add_argument("--label", help="a note to recognise the key by (not secret)")
    listing = key_commands.add_parser("list", help="list a tenant's keys (never their secrets)")
    listing.add_argument("--tenant", required=True)
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    key_commands.add_parser(
        "sync-usage-plan", help="add every active key missing from the usage plan (USAGE_PLAN_ID)"
    )

    tenants = groups.add_parser("tenants", help="create, update and list tenants")
    tenant_commands = tenants.add_subparsers(
        dest="command", required=True, metavar="{create,update,show,list}"
    )
    tenant_create = tenant_commands.add_parser("create", help="create a tenant")
    tenant_create.add_argument("tenant")
    tenant_create.add_argument("--public", action="store_true", help="enable public read (/v1/public/...)")
    tenant_update = tenant_commands.add_parser("update", help="switch a tenant's public read on or off")
    tenant_update.add_argument("tenant")
    tenant_update.add_argument("--public", required=True, choices=["on", "off"])
    tenant_show = tenant_commands.add_parser("show", help="show one tenant")
    tenant_show.add_argument("tenant")
    tenant_commands.add_parser("list", help="list every tenant")
    _add_media_commands(groups)
    return parser


def _add_media_commands(groups: argparse._SubParsersAction) -> None:
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--api", help="API base URL (default: $MEDIALIB_API, else $MEDIALIB_URL)")
    connection.add_argument("--key", help="API key (default: $MEDIALIB_KEY)")

    upload = groups.add_parser(
        "upload", parents=[connection], help="upload files and directories (recursively) through the API"
    )
    upload.add_argument("paths", nargs="+", metavar="PATH")
    upload.add_argument("--folder", help="folder for every file, e.g. /products (created if missing)")
    upload.add_argument(
        "--tag",
        action="append",
        default=[],
        dest="tags",
        help="tag slug to add (repeatable; created if missing)",
    )
    upload.add_argument("--alt", help="alt text for every file")
    upload.add_argument(
        "--on-duplicate",
        choices=["skip", "allow", "reject"],
        default="allow",
        help="a file whose bytes are already in the library: skip it, upload it again, or fail it",
    )
    upload.add_argument("--jobs", type=int, default=4, help="files uploaded at once (default 4)")
    upload.add_argument("--no-wait", action="store_true", help="do not wait for processing to finish")
    upload.add_argument("--json", action="store_true", help="one JSON line per file instead of a table")

    listing = groups.add_parser("ls", parents=[connection], help="list media, newest first")
    listing.add_argument("--folder", help="exact folder path")
    listing.add_argument("--tag", action="append", default=[], dest="tags", help="tag slug (repeatable: all)")
    listing.add_argument("--query", help="word prefixes in filename, title, alt or caption")
    listing.add_argument("--limit", type=int, default=100, help="at most this many items (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON line per item instead of a table")

    remove = groups.add_parser("rm", parents=[connection], help="delete one media item")
    remove.add_argument("media_id", metavar="ID")
    remove.add_argument("--force", action="store_true", help="delete even while entities use it")


def _run_media_command(args: argparse.Namespace) -> int:
    from rich.console import Console

    from devstack.api_client import ApiClient, ApiError, Connection
    from devstack.media_commands import list_media, remove_media
    from devstack.upload_command import UploadOptions, run_upload

    # Into a pipe or a file, a table is as wide as its content: no path or error cut or wrapped.
    out = Console(width=None if sys.stdout.isatty() else 10_000)
    try:
        client = ApiClient(Connection.from_options(args.api, args.key))
        if args.group == "upload":
            options = UploadOptions(
                folder=args.folder,
                tags=tuple(args.tags),
                alt=args.alt,
                on_duplicate=args.on_duplicate,
                wait=not args.no_wait,
            )
            return run_upload(client, args.paths, options, jobs=args.jobs, as_json=args.json, out=out)
        if args.group == "ls":
            return list_media(
                client,
                folder=args.folder,
                tags=args.tags,
                query=args.query,
                limit=args.limit,
                as_json=args.json,
                out=out,
            )
        return remove_media(client, args.media_id, force=args.force, out=out)
    except ApiError as exc:
        status = f"{exc.status} {exc.code}" if exc.status else exc.code.replace("_", " ")
        print(f"medialib: {status}: {exc.detail}", file=sys.stderr)
        return EXIT_FAILED
    except FileNotFoundError as exc:
        print(f"medialib: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _table(rows: Sequence[tuple[str, ...]], out: TextIO) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out
        )


def _default_settings() -> None:
    """Fill in the settings the environment leaves out, before ``medialib`` reads them.

    The settings have no defaults (a deployed function must fail without them); the command
    defaults every table and bucket name to stack ``medialib``'s, as template.yaml builds them.
    """
    from devstack.template import LocalTemplate

    template = LocalTemplate.load()
    for name, value in template.environment.items():
        if name.endswith(("_TABLE", "_BUCKET")) and isinstance(value, str):
            os.environ.setdefault(name, value)
    # The command renders no media URL, but the settings need one: the bucket's own address.
    os.environ.setdefault("MEDIA_BASE_URL", f"https://{template.only_bucket().name}.s3.amazonaws.com")


def _run(args: argparse.Namespace, out: TextIO) -> None:
    # Imported here so that `medialib --help` and argument errors stay instant.
    _default_settings()
    from medialib.domain.errors import ValidationFailed
    from medialib.services import api_keys

    if args.group == "keys" and args.command == "create":
        scopes = [scope.strip() for scope in args.scopes.split(",")]
        info, key = api_keys.create_key(args.tenant, scopes, label=args.label)
        print(f"key_id:  {info.key_id}", file=out)
        print(f"tenant:  {info.tenant_id}", file=out)
        print(f"scopes:  {' '.join(info.scopes)}", file=out)
        if info.label:
            print(f"label:   {info.label}", file=out)
        print("Store this key now; it cannot be shown again:", file=out)
        print(key, file=out)
    elif args.group == "keys" and args.command == "list":
        keys = api_keys.list_keys(args.tenant)
        rows: list[tuple[str, ...]] = [("KEY_ID", "SCOPES", "CREATED_AT", "REVOKED_AT", "LABEL")]
        rows += [
            (k.key_id, ",".join(k.scopes), k.created_at, k.revoked_at or "-", k.label or "") for k in keys
        ]
        _table(rows, out)
    elif args.group == "keys" and args.command == "revoke":
        info = api_keys.revoke_key(args.key_id)
        print(f"revoked {info.key_id} (tenant {info.tenant_id}) at {info.revoked_at}", file=out)
    elif args.group == "keys" and args.command == "sync-usage-plan":
        if not os.environ.get("USAGE_PLAN_ID"):
            raise ValidationFailed(
                "USAGE_PLAN_ID is not set",
                errors=[{"field": "USAGE_PLAN_ID", "message": "export the stack's KeyUsagePlanId output"}],
            )
        added = api_keys.register_keys_in_usage_plan()
        print(f"added {len(added)} key(s) to usage plan {os.environ['USAGE_PLAN_ID']}", file=out)
        for key_id in added:
            print(key_id, file=out)
    elif args.group == "tenants" and args.command == "create":
        tenant = api_keys.create_tenant(args.tenant, public=args.public)
        print(f"created tenant {tenant.tenant_id} (public: {'on' if tenant.public else 'off'})", file=out)
    elif args.group == "tenants" and args.command == "update":
        tenant = api_keys.update_tenant(args.tenant, public=args.public == "on")
        print(f"updated tenant {tenant.tenant_id} (public: {'on' if tenant.public else 'off'})", file=out)
    elif args.group == "tenants" and args.command == "show":
        tenant = api_keys.get_tenant(args.tenant)
        _table(
            [
                ("TENANT_ID", "PUBLIC", "CREATED_AT", "UPDATED_AT"),
                (tenant.tenant_id, "on" if tenant.public else "off", tenant.created_at, tenant.updated_at),
            ],
            out,
        )
    elif args.group == "tenants" and args.command == "list":
        tenant_rows: list[tuple[str, ...]] = [("TENANT_ID", "PUBLIC", "CREATED_AT", "UPDATED_AT")]
        tenant_rows += [
            (t.tenant_id, "on" if t.public else "off", t.created_at, t.updated_at)
            for t in api_keys.list_tenants()
        ]
        _table(tenant_rows, out)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``medialib`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.group in ("upload", "ls", "rm"):
        return _run_media_command(args)
    from medialib.domain.errors import MediaLibError, Unavailable, ValidationFailed

    try:
        _run(args, sys.stdout)
    except ValidationFailed as exc:
        details = "; ".join(error["message"] for error in exc.errors)
        print(f"medialib: {exc.detail}" + (f": {details}" if details else ""), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Unavailable as exc:
        # An operator tool may say what went wrong underneath (endpoint, credentials, table).
        cause = exc.__cause__
        print(f"medialib: {exc.detail}" + (f" ({cause})" if cause else ""), file=sys.stderr)
        return EXIT_FAILED
    except MediaLibError as exc:
        print(f"medialib: {exc.detail}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
