"""Whether the pipeline's variants kept their quality against another version's, on the bench photos.

The other version's `pipeline.py` is read from git (`git show REF:...`) and imported beside the
current one; both process every photo. Each decoded variant is compared with an exact rendering
(full-size decode, upright, one Lanczos resize from full size, no reducing step, no encoding):
PSNR over RGB in dB (RGBA flattened onto white), now and then. Both include WebP's loss at
quality 80, the larger part; the difference between the two is what the pipeline's changes cost.

    .venv/bin/python bench/quality.py REF [--markdown build/bench/quality.md]
"""

import argparse
import importlib.util
import math
import subprocess
import sys
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shared"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from photos import photos
from PIL import Image, ImageChops, ImageOps, ImageStat
from tables import table

from medialib.imaging.pipeline import process_image

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "bench" / "photos"
PIPELINE = "shared/medialib/imaging/pipeline.py"


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio of two images of the same size and mode, in dB."""
    if a.size != b.size or a.mode != b.mode:
        raise ValueError(f"{a.size} {a.mode} against {b.size} {b.mode}")
    squares = ImageStat.Stat(ImageChops.difference(a, b)).sum2
    mse = sum(squares) / (a.width * a.height * len(squares))
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _pipeline_at(ref: str):  # type: ignore[no-untyped-def]
    source = subprocess.run(
        ["git", "show", f"{ref}:{PIPELINE}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = ROOT / "build" / "bench" / "pipeline_ref.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("pipeline_ref", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    return image.convert("RGBA" if image.mode == "RGBA" else "RGB")


def _flat(image: Image.Image) -> Image.Image:
    """RGBA onto white: the colour under a transparent pixel is not part of the picture."""
    if image.mode != "RGBA":
        return image
    return Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image).convert("RGB")


def _exact(data: bytes, size: tuple[int, int], mode: str) -> Image.Image:
    with Image.open(BytesIO(data)) as opened:
        upright = ImageOps.exif_transpose(opened).convert(mode)
    return upright.resize(size, Image.Resampling.LANCZOS)


def _cell(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "exact"


def run(ref: str) -> str:
    reference = _pipeline_at(ref)
    rows = []
    for photo in photos(CACHE):
        data = photo.path.read_bytes()
        now, then = process_image(data), reference.process_image(data)
        cells = []
        for a, b in zip(now.variants, then.variants, strict=True):
            decoded_now, decoded_then = _decoded(a.data), _decoded(b.data)
            exact = _exact(data, decoded_now.size, decoded_now.mode)
            exact = _flat(exact)
            now_db, then_db = psnr(_flat(decoded_now), exact), psnr(_flat(decoded_then), exact)
            cells.append(f"{_cell(now_db)} ({_cell(then_db)})")
        sizes = [len(a.data) / len(b.data) for a, b in zip(now.variants, then.variants, strict=True)]
        rows.append([photo.label, " / ".join(cells), f"{min(sizes):.3f}–{max(sizes):.3f}"])
        print(" | ".join(rows[-1]), file=sys.stderr)
    headers = [
        "input",
        f"PSNR dB vs an exact resize, now ({ref}), variants 1200 / 800 / 400 / 150",
        "bytes now ÷ then",
    ]
    return table(headers, rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="the git revision to compare against")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    markdown = run(args.ref)
    print(markdown)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown)


if __name__ == "__main__":
    main()
