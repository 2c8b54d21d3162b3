"""What must hold of the whole store after any sequence of requests, events, faults and sweeps.

Reads the media table and the bucket directly (the way an auditor would, not through the code
under test's read paths) and returns every violation as a sentence, so a failing test says
what broke.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3

from medialib.adapters import media_store, media_table
from medialib.domain.media import Media, counter_dimensions
from medialib.settings import get_settings


def _scan(table: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    rows: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        rows.extend(page["Items"])
    return rows


def stored_items() -> dict[tuple[str, str], Media]:
    """Every media item in the table, by (tenant, id)."""
    items = {}
    for row in _scan(get_settings().media_table):
        sk = row["sk"]["S"]
        if sk.startswith("M#") and "#" not in row["pk"]["S"][2:]:
            record = media_table.MediaRecord.from_raw_data(row)
            media = media_store.from_record(record)
            items[(media.tenant_id, media.id)] = media
    return items


def violations(*, settled: bool = True) -> list[str]:
    """Every broken invariant. ``settled``: after a sweep has run with time moved on, so no
    outbox (purge record) may remain and nothing may still be ``processing``."""
    found: list[str] = []
    rows = _scan(get_settings().media_table)
    items = stored_items()
    counters: dict[tuple[str, str], int] = {}
    index: set[tuple[str, str]] = set()
    purges: set[tuple[str, str]] = set()
    entities: dict[tuple[str, str], list[str]] = {}
    tags: set[tuple[str, str]] = set()
    for row in rows:
        pk, sk = row["pk"]["S"], row["sk"]["S"]
        tenant = pk[2:].split("#", 1)[0]
        if "#" in pk[2:]:
            index.add((pk, sk))
        elif sk.startswith("COUNT#"):
            counters[(tenant, sk[len("COUNT#") :])] = int(row["n"]["N"])
        elif sk.startswith("PURGE#"):
            purges.add((tenant, sk[len("PURGE#") :]))
        elif sk.startswith("E#"):
            entities[(tenant, sk[2:])] = [value["S"] for value in row["media_ids"]["L"]]
        elif sk.startswith("TAG#"):
            tags.add((tenant, sk[4:]))

    expected_counts: Counter[tuple[str, str]] = Counter()
    expected_index: set[tuple[str, str]] = set()
    for (tenant, _), media in items.items():
        for dimension in counter_dimensions(media):
            expected_counts[(tenant, dimension)] += 1
        expected_index |= media_store.index_rows(media)
        if media.status == "ready" and media.kind == "image" and not media.variants:
            found.append(f"{media.id} is a ready image without variants")
        if media.status != "ready" and media.variants and media.status != "pending":
            found.append(f"{media.id} is {media.status} but has variants")
        if media.status == "failed" and media.error is None:
            found.append(f"{media.id} failed without an error")
        if media.listed and media.confirmed_at is None:
            found.append(f"{media.id} is listed ({media.status}) but was never confirmed")
        if settled and media.status == "processing":
            found.append(f"{media.id} is still processing after a sweep")
        for ref in media.used_by:
            if media.id not in entities.get((tenant, f"{ref.type}#{ref.id}"), []):
                found.append(f"{media.id} says it is used by {ref.type}/{ref.id}, which does not list it")
        for tag_id in media.tag_ids:
            if (tenant, tag_id) not in tags:
                found.append(f"{media.id} carries the missing tag {tag_id}")
    for key in set(expected_counts) | set(counters):
        if counters.get(key, 0) != expected_counts.get(key, 0):
            found.append(f"counter {key} is {counters.get(key, 0)}, items say {expected_counts.get(key, 0)}")
    for row in sorted(index - expected_index):
        found.append(f"dangling index row {row}")
    for row in sorted(expected_index - index):
        found.append(f"missing index row {row}")
    for (tenant, entity), media_ids in entities.items():
        for media_id in media_ids:
            if (tenant, media_id) not in items:
                found.append(f"entity {entity} references the missing item {media_id}")
    if settled and purges:
        found.append(f"purges left undone: {sorted(purges)}")
    found += _storage_violations(items, purges)
    return found


def _storage_violations(items: dict[tuple[str, str], Media], purges: set[tuple[str, str]]) -> list[str]:
    """Every stored object belongs to an item that still needs it (or to a purge under way)."""
    found = []
    s3 = boto3.client("s3")
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=get_settings().media_bucket):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    for key in keys:
        area, tenant, media_id = key.split("/")[:3]
        if (tenant, media_id) in purges:
            continue
        media = items.get((tenant, media_id))
        if media is None:
            found.append(f"orphan object {key}")
        elif media.status == "failed" or media.duplicate_of is not None:
            found.append(f"object {key} kept for a {media.status} item")
        elif area == "variants" and key not in {variant.key for variant in media.variants}:
            found.append(f"variant {key} is not one of {media.id}'s variants")
    return found
