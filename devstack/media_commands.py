"""``medialib ls`` and ``medialib rm``: list and delete media through the API."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from devstack.api_client import ApiClient, ApiError

PAGE_SIZE = 100


def list_media(
    client: ApiClient,
    *,
    folder: str | None,
    tags: list[str],
    query: str | None,
    limit: int,
    as_json: bool,
    out: Console,
) -> int:
    """Print up to ``limit`` items, newest first, following the list cursor page by page."""
    params: dict[str, Any] = {"limit": min(PAGE_SIZE, limit)}
    if folder:
        params["folder"] = folder
    if tags:
        params["tag"] = ",".join(tags)
    if query:
        params["query"] = query
    items: list[dict[str, Any]] = []
    while len(items) < limit:
        page = client.call("GET", "/v1/media", params=params)
        items += page["data"]
        cursor = page["pagination"].get("next_cursor")
        if not cursor:
            break
        params = {**params, "cursor": cursor}
    items = items[:limit]
    if as_json:
        for item in items:
            print(json.dumps(item), file=out.file)
        return 0
    table = Table("id", "filename", "kind", "status", "size", "folder", "tags", "created_at")
    for item in items:
        size = item.get("size")
        table.add_row(
            item["id"],
            item["filename"],
            item["kind"],
            item["status"],
            "-" if size is None else str(size),
            item["folder"],
            ",".join(item.get("tags", [])),
            item["created_at"],
        )
    out.print(table)
    out.print(f"{len(items)} of {page['pagination'].get('total', len(items))} items")
    return 0


def remove_media(client: ApiClient, media_id: str, *, force: bool, out: Console) -> int:
    try:
        client.call("DELETE", f"/v1/media/{media_id}", params={"force": "true"} if force else None)
    except ApiError as exc:
        if exc.code == "in_use":
            users = ", ".join(f"{ref.get('type')}/{ref.get('id')}" for ref in exc.body.get("used_by", []))
            raise ApiError(
                exc.status, exc.code, f"{exc.detail} (used by {users or '?'}); --force deletes it anyway"
            ) from exc
        raise
    out.print(f"deleted {media_id}")
    return 0
