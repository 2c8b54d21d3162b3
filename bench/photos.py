"""The benchmark's photos: Debian wallpaper packages fetched into build/, plus images made from them.

`apt-get download` puts the .deb files in a cache directory under build/ (gitignored) and
`dpkg-deb -x` extracts them; nothing is committed and a second run reuses the cache.
"""

import subprocess
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image

PACKAGES = ("mate-backgrounds", "gnome-backgrounds")
# (label, file name inside the packages); the sizes and encodings the issue asks for.
REAL_PHOTOS = (
    ("JPEG 2 MP baseline", "RainDrops.jpg"),
    ("JPEG 2 MP progressive", "Elephants.jpg"),
    ("JPEG 8 MP progressive", "Elephants_3840x2160.jpg"),
    ("JPEG 18 MP progressive", "Elephants_5640x3172.jpg"),
    ("PNG 2.5 MP RGB", "Ubuntu-Mate-Cold-no-logo.png"),
    ("PNG 2.3 MP RGBA", "Gulp.png"),
    ("WebP 17 MP (photo-like)", "pixels-l.webp"),
    ("WebP 17 MP (illustration)", "adwaita-l.webp"),
)
LARGEST = "Elephants_5640x3172.jpg"


@dataclass(frozen=True)
class Photo:
    label: str
    path: Path
    width: int
    height: int

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


def photos(cache: Path) -> list[Photo]:
    """The real photos, then an 18 MP PNG and an 18 MP WebP made from the largest JPEG."""
    extracted = _fetch(cache)
    found = {path.name: path for path in extracted.rglob("*") if path.is_file()}
    chosen = [(label, found[name]) for label, name in REAL_PHOTOS]
    largest = found[LARGEST]
    for fmt, suffix in (("PNG", "png"), ("WebP", "webp")):
        made = _derived(largest, cache / f"elephants-18mp.{suffix}", fmt.upper())
        chosen.append((f"{fmt} 18 MP (made from the 18 MP JPEG)", made))
    result = []
    for label, path in chosen:
        with Image.open(path) as image:
            result.append(Photo(label, path, *image.size))
    return result


def _fetch(cache: Path) -> Path:
    extracted = cache / "extracted"
    marker = extracted / ".done"
    if marker.exists():
        return extracted
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", *PACKAGES], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
    marker.touch()
    return extracted


def _derived(source: Path, target: Path, fmt: str) -> Path:
    if not target.exists():
        with Image.open(source) as image:
            out = BytesIO()
            image.convert("RGB").save(out, fmt, **({"quality": 90} if fmt == "WEBP" else {}))
        target.write_bytes(out.getvalue())
    return target
