"""What a list request costs as the library grows: DynamoDB reads and time per request kind.

Fills one tenant with N items through the data layer (``media_store.bulk_import``) on the
local emulator (moto in server mode on 127.0.0.1), runs every request kind through the list
service (and the public list through the public service), then grows the tenant and runs them
again. Reads are everything the request read, counted on the DynamoDB client: index keys
(``ScannedCount`` of every query) and items read by key (``GetItem``, ``BatchGetItem``: the
page's items, the totals' counters, tag slugs, the tenant record); the baseline is the first
size, and the ratios show which figures grow with the library.

    .venv/bin/python bench/bench_catalogue.py                 # 10,000 then 50,000 items
    .venv/bin/python bench/bench_catalogue.py --sizes 2000 6000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TENANT = "bench"
WORDS = [f"w{n:04d}" for n in range(2000)]  # common filename words: each on ~1/2000 of items
KINDS = ["image"] * 16 + ["video"] * 2 + ["document", "model"]
STATUSES = ["ready"] * 18 + ["processing", "failed"]
FOLDERS = ["/"] + [f"/f{n:02d}" for n in range(20)]
TAGS = [f"tag_BENCH{n:012d}" for n in range(10)]
RARE_ITEMS = {1_000, 4_000, 9_000}


@dataclass
class Reads:
    keys: int = 0  # index keys read (ScannedCount of every query, summed over pages)
    items: int = 0  # items read by key


READS = Reads()


def _count_reads() -> None:
    """Count what every DynamoDB call of this process reads, whichever layer made it."""
    from botocore.client import BaseClient

    make_api_call = BaseClient._make_api_call

    def counted(self, operation_name, api_params):  # type: ignore[no-untyped-def]
        response = make_api_call(self, operation_name, api_params)
        if operation_name in ("Query", "Scan"):
            READS.keys += response.get("ScannedCount", 0)
        elif operation_name == "GetItem":
            READS.items += 1
        elif operation_name == "BatchGetItem":
            READS.items += sum(len(found) for found in response.get("Responses", {}).values())
        return response

    BaseClient._make_api_call = counted  # type: ignore[method-assign]


def _start_emulator() -> object:
    """moto in this process (no HTTP between the code and the emulator), with the local stack's
    settings: the table names, a cursor key."""
    from moto import mock_aws

    sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
    from devstack.environment import build_environment
    from devstack.template import LocalTemplate

    url = "http://127.0.0.1:1"  # never reached: mock_aws answers inside botocore
    os.environ.update(build_environment(LocalTemplate.load(aws_url=url), aws_url=url))
    for name in [name for name in os.environ if name.startswith("AWS_ENDPOINT_URL")]:
        del os.environ[name]
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    mock = mock_aws()
    mock.start()

    import boto3

    from tests.support.tables import create_tables_from_template

    create_tables_from_template(boto3.client("dynamodb"), names=["MediaTable", "TenantsTable"])
    _count_reads()
    return mock


def _cache_item_walks():  # type: ignore[no-untyped-def]
    """Make moto's index queries walk a cached list: moto sorts every item of the table on each
    index query, in Python, which at 50,000 items (some 300,000 rows) takes seconds per query and
    hours per run. The requests measured only read, so the list is the table's; the returned
    function forgets it, and is called after every write phase. What is read is unchanged."""
    from moto.dynamodb.models.table import Table

    walk = Table.all_items
    cache: dict[int, object] = {}

    def all_items(self):  # type: ignore[no-untyped-def]
        if id(self) not in cache:
            cache[id(self)] = walk(self)
        return cache[id(self)]

    Table.all_items = all_items  # type: ignore[method-assign]
    return cache.clear


def _items(start: int, count: int, rng: random.Random) -> list:
    from medialib.domain.media import EntityRef, Media, new_media_id

    base_ms = 1_790_000_000_000
    items = []
    for n in range(start, start + count):
        media_id = new_media_id(base_ms + n * 1000)
        words = rng.sample(WORDS, 2)
        rare = "rare" if n in RARE_ITEMS else None  # the same three matches at every size
        filename = "-".join(filter(None, [words[0], rare, words[1]])) + ".jpg"
        items.append(
            Media(
                tenant_id=TENANT,
                id=media_id,
                kind=rng.choice(KINDS),
                status=rng.choice(STATUSES),
                filename=filename,
                content_type="image/jpeg",
                size=rng.randint(1_000, 20_000_000),
                folder=rng.choice(FOLDERS),
                tag_ids=rng.sample(TAGS, rng.choice([0, 0, 1, 2])),
                used_by=[EntityRef(type="product", id=f"p{n}")] if rng.random() < 0.3 else [],
                original_key=f"originals/{TENANT}/{media_id}",
                created_at="2026-11-23T00:00:00.000Z",
                updated_at="2026-11-23T00:00:00.000Z",
                max_size=1,
            )
        )
    return items


@dataclass
class Measured:
    keys: int  # index keys read (ScannedCount, summed over pages)
    items: int  # items read by key
    seconds: float
    returned: int
    estimate: bool  # pagination.total_is_estimate


def _measure(run, repeats: int) -> Measured:  # type: ignore[no-untyped-def]
    times: list[float] = []
    keys = items = returned = 0
    estimate = False
    for _ in range(repeats):
        READS.keys = READS.items = 0
        started = time.perf_counter()
        returned, estimate = run()
        times.append(time.perf_counter() - started)
        keys, items = READS.keys, READS.items
    return Measured(keys, items, statistics.median(times), returned, estimate)


def _request_kinds() -> dict:
    from medialib.adapters import media_store
    from medialib.services.media import ListParams, list_media
    from medialib.services.public import public_list

    def counted(page):  # type: ignore[no-untyped-def]
        return len(page.items), bool(getattr(page, "total_is_estimate", False))

    def listing(**params):  # type: ignore[no-untyped-def]
        return lambda: counted(list_media(TENANT, ListParams(**params)))

    def public(kind: str | None = None, folder: str | None = None):  # type: ignore[no-untyped-def]
        return lambda: counted(public_list(TENANT, kind=kind, folder=folder, limit=24, offset=0))

    def cursor_page():  # type: ignore[no-untyped-def]
        cursor = list_media(TENANT, ListParams(limit=24)).next_cursor
        return lambda: counted(list_media(TENANT, ListParams(limit=24, cursor=cursor)))

    def naive_page() -> tuple[int, bool]:
        """The baseline: read the tenant's items, then filter, sort and slice in memory."""
        from medialib.adapters.media_table import MediaRecord, tenant_pk

        records = MediaRecord.query(tenant_pk(TENANT), MediaRecord.sk.startswith("M#"))
        items = [record.sk for record in records if record.kind == "video"]
        return len(sorted(items)[:24]), False

    def total() -> tuple[int, bool]:
        media_store.count(TENANT, "all")
        return 0, False

    return {
        "default list (created_at desc), offset 0": listing(limit=24),
        "default list, offset 5,000": listing(limit=24, offset=5000),
        "cursor page (page 2)": cursor_page(),
        "filter kind=video": listing(limit=24, kind="video"),
        "filter status=failed": listing(limit=24, status="failed"),
        "filter folder=/f07": listing(limit=24, folder="/f07"),
        "filter tag (1 slug)": listing(limit=24, tag="t3"),
        "filter unused=true": listing(limit=24, unused=True),
        "filters kind=video + folder=/f07": listing(limit=24, kind="video", folder="/f07"),
        "filters status=failed + tag": listing(limit=24, status="failed", tag="t3"),
        "filters tag + unused=true": listing(limit=24, tag="t3", unused=True),
        "filters 2 tags": listing(limit=24, tag="t3,t5"),
        "filters folder=/f07 + unused=true": listing(limit=24, folder="/f07", unused=True),
        "filters tag + kind=video": listing(limit=24, tag="t3", kind="video"),
        "filters folder=/f07 + query (w0042)": listing(limit=24, folder="/f07", query="w0042"),
        "filters folder=/f07 + query (rare)": listing(limit=24, folder="/f07", query="rare"),
        "public list": public(),
        "public list kind=video": public(kind="video"),
        "public list folder=/f07": public(folder="/f07"),
        "public list kind=video + folder=/f07": public(kind="video", folder="/f07"),
        "sort filename asc": listing(limit=24, sort="filename", order="asc"),
        "sort size desc": listing(limit=24, sort="size"),
        "sort filename, offset 5,000": listing(limit=24, sort="filename", offset=5000),
        "search, few matches (rare)": listing(limit=24, query="rare"),
        "search, common word (w0042)": listing(limit=24, query="w0042"),
        "total (counter)": total,
        "baseline: kind=video by reading the library": naive_page,
    }


def _tag_slugs() -> None:
    """Give the benchmark's tag ids slugs t0..t9, as the tags service would, and open the
    tenant to public read."""
    from medialib.adapters import catalogue_store
    from medialib.domain.tags import Tag
    from medialib.services import api_keys

    for n, tag_id in enumerate(TAGS):
        tag = Tag(tag_id, f"t{n}", f"t{n}", None, 0, "2026-11-23T00:00:00.000Z", "2026-11-23T00:00:00.000Z")
        catalogue_store.create_tag(TENANT, tag)
    api_keys.create_tenant(TENANT, public=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each request (median time)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    mock = _start_emulator()
    try:
        from medialib.adapters import media_store

        _tag_slugs()
        forget_walks = _cache_item_walks()
        rng = random.Random(7)
        results: dict[int, dict[str, Measured]] = {}
        loaded = 0
        for size in args.sizes:
            started = time.perf_counter()
            for chunk_start in range(loaded, size, 1000):
                media_store.bulk_import(_items(chunk_start, min(1000, size - chunk_start), rng))
            loaded = size
            forget_walks()
            print(f"loaded {size} items in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            results[size] = {name: _measure(run, args.repeats) for name, run in _request_kinds().items()}
        markdown = _table(results)
        print(markdown)
        if args.markdown:
            args.markdown.parent.mkdir(parents=True, exist_ok=True)
            args.markdown.write_text(markdown)
    finally:
        mock.stop()  # type: ignore[attr-defined]


def _table(results: dict[int, dict[str, Measured]]) -> str:
    sizes = list(results)
    first, last = sizes[0], sizes[-1]
    cells = [f"keys+items @ {s:,}" for s in sizes] + [f"ms @ {s:,}" for s in sizes]
    lines = ["| request (limit 24) | " + " | ".join(cells) + f" | reads {last:,} ÷ {first:,} | total |"]
    lines.append("|" + "---|" * (3 + 2 * len(sizes)))
    for name in results[first]:
        runs = [results[s][name] for s in sizes]
        reads = [f"{m.keys}+{m.items}" for m in runs]
        ms = [f"{m.seconds * 1000:.0f}" for m in runs]
        before, after = runs[0].keys + runs[0].items, runs[-1].keys + runs[-1].items
        ratio = f"{after / before:.2f}x" if before else "-"
        total = "estimate" if any(m.estimate for m in runs) else "exact"
        lines.append(f"| {name} | " + " | ".join(reads + ms) + f" | {ratio} | {total} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
