"""The ``medialib`` command: API keys and tenants.

It talks to whatever the standard AWS configuration points at: ``AWS_ENDPOINT_URL`` for the
local stack or LocalStack, real AWS otherwise (region from the AWS configuration, else
us-east-1). Table names are the settings' (``TENANTS_TABLE``, ``KEYS_TABLE``); where the
environment names none, the command uses the names template.yaml gives stack ``medialib``,
which are the local stack's too.

    medialib keys create --tenant acme --scopes media:read,media:write [--label "CMS"]
    medialib keys list --tenant acme
    medialib keys revoke KEY_ID
    medialib tenants create acme [--public]
    medialib tenants update acme --public on|off
    medialib tenants show acme
    medialib tenants list
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
        prog="medialib", description="Manage media library API keys and tenants."
    )
    groups = parser.add_subparsers(dest="group", required=True, metavar="{keys,tenants}")

    keys = groups.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="command", required=True, metavar="{create,list,revoke}")
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
    return parser


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
