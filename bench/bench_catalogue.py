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
import socket
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the emulator takes any key
        AWS_DEFAULT_REGION="us-east-1",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="ERROR",
    )
    import boto3

    sys.path[:0] = [str(ROOT), str(ROOT / "shared")]
    from devstack.environment import build_environment
    from devstack.template import LocalTemplate
    from tests.support.tables import create_tables_from_template

    # The settings the local stack gives its functions (table and bucket names, a cursor key).
    url = os.environ["AWS_ENDPOINT_URL"]
    os.environ.update(build_environment(LocalTemplate.load(aws_url=url), aws_url=url))
    os.environ["POWERTOOLS_LOG_LEVEL"] = "ERROR"

    create_tables_from_template(boto3.client("dynamodb"), names=["MediaTable", "TenantsTable"])
    _count_reads()
    return server


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


def _measure(run) -> Measured:  # type: ignore[no-untyped-def]
    times: list[float] = []
    keys = items = returned = 0
    for _ in range(3):
        READS.keys = READS.items = 0
        started = time.perf_counter()
        returned = run()
        times.append(time.perf_counter() - started)
        keys, items = READS.keys, READS.items
    return Measured(keys, items, statistics.median(times), returned)


def _request_kinds() -> dict:
    from medialib.adapters import media_store
    from medialib.services.media import ListParams, list_media
    from medialib.services.public import public_list

    def listing(**params):  # type: ignore[no-untyped-def]
        return lambda: len(list_media(TENANT, ListParams(**params)).items)

    def public(kind: str | None = None, folder: str | None = None):  # type: ignore[no-untyped-def]
        return lambda: len(public_list(TENANT, kind=kind, folder=folder, limit=24, offset=0).items)

    def cursor_page():  # type: ignore[no-untyped-def]
        cursor = list_media(TENANT, ListParams(limit=24)).next_cursor
        return lambda: len(list_media(TENANT, ListParams(limit=24, cursor=cursor)).items)

    def naive_page() -> int:
        """The baseline: read the tenant's items, then filter, sort and slice in memory."""
        from medialib.adapters.media_table import MediaRecord, tenant_pk

        records = MediaRecord.query(tenant_pk(TENANT), MediaRecord.sk.startswith("M#"))
        items = [record.sk for record in records if record.kind == "video"]
        return len(sorted(items)[:24])

    def total() -> int:
        media_store.count(TENANT, "all")
        return 0

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
    args = parser.parse_args()
    server = _start_emulator()
    try:
        from medialib.adapters import media_store

        _tag_slugs()
        rng = random.Random(7)
        results: dict[int, dict[str, Measured]] = {}
        loaded = 0
        for size in args.sizes:
            started = time.perf_counter()
            for chunk_start in range(loaded, size, 1000):
                media_store.bulk_import(_items(chunk_start, min(1000, size - chunk_start), rng))
            loaded = size
            print(f"loaded {size} items in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            results[size] = {name: _measure(run) for name, run in _request_kinds().items()}
        _print(results)
    finally:
        server.stop()  # type: ignore[attr-defined]


def _print(results: dict[int, dict[str, Measured]]) -> None:
    sizes = list(results)
    first, last = sizes[0], sizes[-1]
    cells = [f"keys+items @ {s:,}" for s in sizes] + [f"ms @ {s:,}" for s in sizes]
    print("| request (limit 24) | " + " | ".join(cells) + f" | reads {last:,} ÷ {first:,} |")
    print("|" + "---|" * (2 + 2 * len(sizes)))
    for name in results[first]:
        runs = [results[s][name] for s in sizes]
        reads = [f"{m.keys}+{m.items}" for m in runs]
        ms = [f"{m.seconds * 1000:.0f}" for m in runs]
        before, after = runs[0].keys + runs[0].items, runs[-1].keys + runs[-1].items
        ratio = f"{after / before:.2f}x" if before else "-"
        print(f"| {name} | " + " | ".join(reads + ms) + f" | {ratio} |")


if __name__ == "__main__":
    main()
