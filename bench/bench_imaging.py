"""Benchmark: real photos through `process_image`, a naive Pillow pipeline and libvips, in one run.

The photos are Debian's wallpapers (`mate-backgrounds`: 2, 8 and 18 MP JPEGs, some progressive,
and PNGs; `gnome-backgrounds`: 17 MP WebPs), fetched with `apt-get download` into build/bench
(never committed), plus an 18 MP PNG and an 18 MP WebP encoded from the 18 MP JPEG.

Every (photo, pipeline) runs in a fresh child process: one first run, after which the child reads
its resident-set high-water mark (VmHWM: Pillow's and libvips' pixel buffers are invisible to
tracemalloc, and ru_maxrss would carry the parent's peak across fork), then timed runs. libvips
runs on one thread (VIPS_CONCURRENCY=1) with its operation cache off: the process function has
1,769 MB, one vCPU, and each upload is processed once.

    .venv/bin/python bench/bench_imaging.py [--runs 3] [--markdown build/bench/imaging.md]
    .venv/bin/python bench/bench_imaging.py --webp-methods PHOTO   # encoding cost per WebP method
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from photos import Photo, photos
from PIL import Image, ImageOps
from tables import table

from medialib.imaging.pipeline import VARIANT_BOXES, WEBP_METHOD, WEBP_QUALITY, process_image, variant_sizes
from medialib.imaging.placeholder import blurhash_of, dominant_color_of

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench" / "photos"
TARGET_NAIVE = 1.5  # at least this much faster than naive
TARGET_LIBVIPS = 1.3  # at most this multiple of libvips' time
TARGET_PEAK_MB = 300  # for any 18 MP input


def naive_pipeline(data: bytes) -> None:
    """Full decode, every variant resized from the full-size image, WebP method 6; transparency
    kept, as the pipeline keeps it, so both write the same variants."""
    with Image.open(BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened)
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    smallest = image
    for _name, size in variant_sizes(*image.size):
        smallest = image.resize(size, Image.Resampling.LANCZOS)
        smallest.save(BytesIO(), "WEBP", quality=WEBP_QUALITY, method=6)
    blurhash_of(smallest)
    dominant_color_of(smallest)


def libvips_pipeline(data: bytes) -> None:
    """libvips' thumbnail (shrink-on-load, autorotate, an embedded profile to sRGB) for the largest
    variant, each smaller one from the previous, the same WebP settings, the same placeholder."""
    import pyvips

    # In memory: the decode is a sequential stream, and every smaller variant reads this one again.
    # Colour-managed only with an embedded profile, like the pipeline (an export profile alone
    # would transform every image).
    profiled = pyvips.Image.new_from_buffer(data, "").get_typeof("icc-profile-data") != 0
    current = pyvips.Image.thumbnail_buffer(
        data,
        VARIANT_BOXES[0],
        height=VARIANT_BOXES[0],
        size="down",
        **({"export_profile": "srgb"} if profiled else {}),
    )
    for box in VARIANT_BOXES:
        if max(current.width, current.height) > box:
            current = current.thumbnail_image(box, height=box)
        current = current.copy_memory()
        current.webpsave_buffer(Q=WEBP_QUALITY, effort=WEBP_METHOD, keep="none")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[current.bands]
    smallest = Image.frombytes(mode, (current.width, current.height), current.write_to_memory())
    smallest = smallest.convert("RGBA" if "A" in mode else "RGB")
    blurhash_of(smallest)
    dominant_color_of(smallest)


def pillow_decode(data: bytes) -> None:
    """Only Pillow's full-size decode: the floor of any Pillow pipeline that cannot draft."""
    with Image.open(BytesIO(data)) as opened:
        opened.load()


PIPELINES: dict[str, Callable[[bytes], object]] = {
    "pipeline": process_image,
    "naive": naive_pipeline,
    "libvips": libvips_pipeline,
    "decode": pillow_decode,
}
COMPARED = ("pipeline", "naive", "libvips")  # the memory column; decode is a reference time


def child(pipeline: str, path: str, runs: int) -> None:
    """One fresh process: the first run's peak memory, then `runs` timed runs."""
    data = Path(path).read_bytes()
    Image.init()  # the plugins a run would import are not part of the run's memory
    if pipeline == "libvips":
        import pyvips

        pyvips.cache_set_max(0)  # every run decodes, as every upload does
    before = _peak_rss_kb()
    PIPELINES[pipeline](data)
    peak = _peak_rss_kb()
    cpu, wall = [], []
    for _ in range(runs):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        PIPELINES[pipeline](data)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    print(json.dumps({"before_kb": before, "peak_kb": peak, "cpu": cpu, "wall": wall}))


def measure(pipeline: str, path: Path, runs: int) -> dict:
    env = dict(os.environ, VIPS_CONCURRENCY="1")
    command = [sys.executable, __file__, "--child", pipeline, str(path), str(runs)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.splitlines()[-1])


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark measures memory on Linux only")


def run(runs: int) -> str:
    import pyvips

    print(
        f"Python {platform.python_version()}, Pillow {Image.__version__}, libvips "
        f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; {runs} timed runs after a first run, medians of CPU time",
        file=sys.stderr,
    )
    rows = []
    misses = []
    for photo in photos(CACHE):
        result = {name: measure(name, photo.path, runs) for name in PIPELINES}
        # CPU time: on a shared machine, wall time measures the neighbours (libvips runs on one
        # thread, so its CPU time is its work too).
        cpu = {name: statistics.median(r["cpu"]) for name, r in result.items()}
        peak = {name: r["peak_kb"] / 1024 for name, r in result.items()}
        vs_naive = cpu["naive"] / cpu["pipeline"]
        vs_vips = cpu["pipeline"] / cpu["libvips"]
        misses += _misses(photo, vs_naive, vs_vips, peak["pipeline"])
        rows.append(
            [
                photo.label,
                f"{photo.width}×{photo.height}, {photo.path.stat().st_size / 1e6:.1f} MB",
                *(f"{cpu[name] * 1000:.0f}" for name in PIPELINES),
                f"{vs_naive:.2f}×",
                f"{vs_vips:.2f}×",
                " / ".join(f"{peak[name]:.0f}" for name in COMPARED),
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr)
    headers = [
        "input",
        "size",
        "pipeline CPU ms",
        "naive CPU ms",
        "libvips CPU ms",
        "Pillow decode alone CPU ms",
        "naive ÷ pipeline (≥1.5×)",
        "pipeline ÷ libvips (≤1.3×)",
        "peak RSS MB pipeline / naive / libvips",
    ]
    summary = "All targets met." if not misses else "Targets missed:\n" + "\n".join(f"- {m}" for m in misses)
    return table(headers, rows) + "\n" + summary + "\n"


def _misses(photo: Photo, vs_naive: float, vs_vips: float, peak_mb: float) -> list[str]:
    misses = []
    if vs_naive < TARGET_NAIVE:
        misses.append(f"{photo.label}: {vs_naive:.2f}× faster than naive (target ≥{TARGET_NAIVE}×)")
    if vs_vips > TARGET_LIBVIPS:
        misses.append(f"{photo.label}: {vs_vips:.2f}× libvips' time (target ≤{TARGET_LIBVIPS}×)")
    if photo.megapixels >= 16 and peak_mb >= TARGET_PEAK_MB:
        misses.append(f"{photo.label}: peak RSS {peak_mb:.0f} MB (target <{TARGET_PEAK_MB} MB)")
    return misses


def webp_methods(path: Path, runs: int) -> str:
    """CPU time and bytes of encoding one photo's variants at each WebP method (decode and resize
    excluded), against method 4."""
    with Image.open(path) as opened:
        sizes = variant_sizes(*opened.size)
        opened.draft(None, sizes[0][1])
        current = opened.convert("RGB")
    variants = []
    for _name, size in sizes:
        current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        variants.append(current)
    results = {}
    for method in range(7):
        times = []
        for _ in range(runs):
            start = time.process_time()
            written = sum(len(_encode(variant, method)) for variant in variants)
            times.append(time.process_time() - start)
        results[method] = (statistics.median(times), written)
    ref_cpu, ref_size = results[WEBP_METHOD]
    rows = [
        [method, f"{cpu * 1000:.1f}", f"{size:,}", f"{cpu / ref_cpu:.2f}× / {size / ref_size:.3f}"]
        for method, (cpu, size) in results.items()
    ]
    return table(["method", "CPU ms", "bytes", f"vs method {WEBP_METHOD} (CPU / bytes)"], rows)


def _encode(image: Image.Image, method: int) -> bytes:
    out = BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=method)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per measurement (after a first run)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--webp-methods", type=Path, metavar="PHOTO", help="only the WebP method table")
    parser.add_argument("--child", nargs=3, metavar=("PIPELINE", "PATH", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        pipeline, path, runs = args.child
        child(pipeline, path, int(runs))
        return
    if args.webp_methods:
        print(webp_methods(args.webp_methods, args.runs))
        return
    markdown = run(args.runs)
    print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)


if __name__ == "__main__":
    main()
