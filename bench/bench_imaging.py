"""Benchmark: a 12-megapixel photo through `process_image`, against a naive pipeline in the same run.

The naive baseline decodes the JPEG at full size, resizes every variant from the full image and
encodes WebP at method 6. Peak memory is measured in a fresh child process per pipeline, from the
kernel's resident-set high-water mark (VmHWM), since Pillow's pixel buffers are invisible to
tracemalloc, and ru_maxrss carries the parent's peak across fork and exec.

    .venv/bin/python bench/bench_imaging.py [--runs 5]
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))

from PIL import Image, ImageDraw, ImageFilter, ImageOps

from medialib.imaging.pipeline import WEBP_QUALITY, process_image, variant_sizes
from medialib.imaging.placeholder import blurhash_of, dominant_color_of

SIZE = (4000, 3000)


def photo_like(size: tuple[int, int], seed: int = 12) -> Image.Image:
    """Gradients, soft blobs, hard-edged shapes and sensor-like noise: compresses like a photo."""
    rng = random.Random(seed)
    width, height = size

    def noise(w: int, h: int) -> Image.Image:
        return Image.frombytes("L", (w, h), rng.randbytes(w * h))

    horizontal = Image.linear_gradient("L").resize(size)
    vertical = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size)
    blobs = noise(width // 64, height // 64).resize(size, Image.Resampling.BICUBIC)
    image = Image.merge("RGB", (Image.blend(horizontal, blobs, 0.5), vertical, blobs))
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(40, 600)
        color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    image = image.filter(ImageFilter.GaussianBlur(2))
    grain = Image.merge("RGB", [noise(width, height) for _ in range(3)])
    return Image.blend(image, grain, 0.06)


def naive_pipeline(data: bytes) -> None:
    """Full decode, every variant from the full-size image, WebP method 6."""
    with Image.open(BytesIO(data)) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    smallest = image
    for _name, size in variant_sizes(*image.size):
        smallest = image.resize(size, Image.Resampling.LANCZOS)
        smallest.save(BytesIO(), "WEBP", quality=WEBP_QUALITY, method=6)
    blurhash_of(smallest)
    dominant_color_of(smallest)


PIPELINES: dict[str, Callable[[bytes], object]] = {"pipeline": process_image, "naive": naive_pipeline}


def timed(function: Callable[[bytes], object], data: bytes, runs: int) -> tuple[list[float], list[float]]:
    function(data)  # warm-up: plugin imports, lazily built profiles
    cpu, wall = [], []
    for _ in range(runs):
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        function(data)
        cpu.append(time.process_time() - cpu_start)
        wall.append(time.perf_counter() - wall_start)
    return cpu, wall


def peak_memory_mb(pipeline: str, path: str) -> tuple[float, float]:
    """(peak RSS, growth over the RSS before processing) of one run in a fresh process, in MB."""
    child = subprocess.run(
        [sys.executable, __file__, "--child", pipeline, path], capture_output=True, text=True, check=True
    )
    before, after = json.loads(child.stdout)
    return after / 1024, (after - before) / 1024


def child(pipeline: str, path: str) -> None:
    data = Path(path).read_bytes()
    Image.init()  # the plugins a run would import are not part of the run's memory
    before = _peak_rss_kb()
    PIPELINES[pipeline](data)
    print(json.dumps([before, _peak_rss_kb()]))


def _peak_rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark measures memory on Linux only")


def webp_methods(data: bytes, runs: int) -> None:
    """CPU and bytes of encoding the four variants at each WebP method (decode and resize excluded)."""
    with Image.open(BytesIO(data)) as opened:
        opened.draft(None, (1200, 900))
        current = opened.convert("RGB")
    variants = []
    for _name, size in variant_sizes(*SIZE):
        current = current.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        variants.append(current)
    print("\nWebP encoding of the 1200/800/400/150 variants (quality 80), per method:")
    print(f"  {'method':>6} {'CPU ms':>8} {'bytes':>9} {'vs method 4':>12}")
    results = {}
    for method in range(7):
        times = []
        for _ in range(runs):
            start = time.process_time()
            sizes = [len(_encode(variant, method)) for variant in variants]
            times.append(time.process_time() - start)
        results[method] = (statistics.median(times), sum(sizes))
    for method, (cpu, size) in results.items():
        reference_cpu, reference_size = results[4]
        print(
            f"  {method:>6} {cpu * 1000:>8.1f} {size:>9,} "
            f"{cpu / reference_cpu:>6.2f}x / {size / reference_size:>5.3f}"
        )


def _encode(image: Image.Image, method: int) -> bytes:
    out = BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=method)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement (after a warm-up)")
    parser.add_argument("--child", nargs=2, metavar=("PIPELINE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print(f"Python {platform.python_version()}, Pillow {Image.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, {args.runs} runs after a warm-up; times are medians (min)")  # fmt: skip
    photo = photo_like(SIZE)
    with tempfile.TemporaryDirectory() as scratch:
        for progressive in (False, True):
            data = _jpeg(photo, progressive)
            path = Path(scratch) / "photo.jpg"
            path.write_bytes(data)
            kind = "progressive" if progressive else "baseline"
            print(f"\n{SIZE[0]}x{SIZE[1]} {kind} JPEG, {len(data) / 1e6:.1f} MB")
            print(f"  {'':<9} {'CPU s':>14} {'wall s':>14} {'peak RSS MB':>12} {'growth MB':>10}")
            medians = {}
            for name, function in PIPELINES.items():
                cpu, wall = timed(function, data, args.runs)
                peak, growth = peak_memory_mb(name, str(path))
                medians[name] = (statistics.median(cpu), statistics.median(wall), growth)
                print(
                    f"  {name:<9} {statistics.median(cpu):>6.3f} ({min(cpu):.3f}) "
                    f"{statistics.median(wall):>6.3f} ({min(wall):.3f}) {peak:>12.0f} {growth:>10.0f}"
                )
            (cpu_p, wall_p, mem_p), (cpu_n, wall_n, mem_n) = medians["pipeline"], medians["naive"]
            print(f"  naive / pipeline: CPU {cpu_n / cpu_p:.2f}x, wall {wall_n / wall_p:.2f}x, "
                  f"memory growth {mem_n / max(mem_p, 1):.2f}x")  # fmt: skip
        webp_methods(_jpeg(photo, progressive=False), args.runs)


def _jpeg(image: Image.Image, progressive: bool) -> bytes:
    out = BytesIO()
    image.save(out, "JPEG", quality=90, progressive=progressive)
    return out.getvalue()


if __name__ == "__main__":
    main()
