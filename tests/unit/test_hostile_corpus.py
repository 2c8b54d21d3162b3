"""Hostile files through the image pipeline: every outcome is an image or a rejection with a stable code.

The corpus is made in code (tests/support/hostile_files.py): pixel floods, text, palette and frame
bombs, damaged files, polyglots, other formats, odd modes and sizes, and seeded mutations of valid
files. Peak memory is measured in a child process, where nothing else shares the figure.
"""

import io
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from medialib.imaging.pipeline import ImageRejected, process_image
from tests.support.hostile_files import (
    STABLE_CODES,
    encode,
    exif_orientation,
    mutations,
    named_cases,
    odd_valid_images,
    outcome_of,
    picture,
)

ROOT = Path(__file__).resolve().parents[2]
MUTATION_COUNT = 12_000
MUTATION_SEED = 6
# The corpus at the 50-megapixel limit: the decoded frame is the one full-size buffer, at most
# 4 bytes a pixel (200 MB); then the input (up to 25 MB), the bands being converted and resized
# (about 2 megapixels at a time), the variants, and the interpreter with Pillow (about 45 MB).
# Measured: about 260 MB; a second full-size copy (a whole-frame conversion, premultiply or
# transpose) would take it to 450-600 MB.
PEAK_MEMORY_BOUND_MB = 320

NAMED = named_cases()


@pytest.mark.parametrize("case", NAMED, ids=[case.name for case in NAMED])
def test_hostile_files_end_with_their_outcome(case):
    assert outcome_of(case.data) == case.expected


@pytest.mark.parametrize(
    "case", [case for case in NAMED if case.name.startswith("polyglot")], ids=lambda c: c.name
)
def test_polyglots_leave_nothing_but_pixels_in_the_variants(case):
    result = process_image(case.data)
    for variant in result.variants:
        assert variant.data[:4] == b"RIFF"
        for payload in (b"alert", b"script", b"PK\x03\x04", b"html"):
            assert payload not in variant.data


ODD_VALID = odd_valid_images()


@pytest.mark.parametrize(("name", "data", "size"), ODD_VALID, ids=[name for name, _data, _size in ODD_VALID])
def test_valid_images_in_unusual_modes_and_shapes_are_processed(name, data, size):
    result = process_image(data)

    assert (result.width, result.height) == size, name
    for variant in result.variants:
        with Image.open(io.BytesIO(variant.data)) as decoded:
            assert decoded.size == (variant.width, variant.height)
        assert 1 <= variant.width <= max(size[0], 1) and 1 <= variant.height <= max(size[1], 1)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_reports_upright_dimensions(fmt, orientation):
    # Given a 300x200 image stored with an EXIF orientation
    data = encode(picture((300, 200)), fmt, exif=exif_orientation(orientation))

    # When it is processed
    result = process_image(data)

    # Then 5-8 (the transposing ones) swap the sides, everywhere the size shows
    swapped = orientation >= 5
    assert (result.width, result.height) == ((200, 300) if swapped else (300, 200))
    assert [(v.width, v.height) for v in result.variants] == [(100, 150) if swapped else (150, 100)]


def test_seeded_mutations_of_valid_files_end_ready_or_with_a_stable_code():
    # Given 12,000 mutations (bit flips, byte runs inserted, deleted and overwritten, truncations,
    # duplicated runs, oversized header fields) of valid JPEG, PNG, GIF, WebP and AVIF files
    outcomes: Counter[str] = Counter()

    # When each is processed
    for name, data in mutations(MUTATION_COUNT, seed=MUTATION_SEED):
        try:
            process_image(data)
        except ImageRejected as rejected:
            assert rejected.code in STABLE_CODES, name
            outcomes[rejected.code] += 1
        else:
            outcomes["ready"] += 1
        # Any other exception fails the test, named by its mutation, which replays from the seed.

    # Then every one ended ready or rejected with a stable code, and the corpus reached both
    assert sum(outcomes.values()) == MUTATION_COUNT
    assert outcomes["ready"] > 500 and outcomes["corrupt"] > 500, outcomes
    assert outcomes["unsupported_type"] > 0 and outcomes["too_many_pixels"] > 0, outcomes


def test_peak_memory_of_bombs_and_mutations_stays_bounded_in_a_child_process():
    # Given a fresh interpreter running the named corpus, the worst valid images at the
    # 50-megapixel limit (RGB, rotated RGBA and grey-alpha, 16-bit, palette with transparency)
    # and 2,000 more mutations
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)])}
    completed = subprocess.run(
        [sys.executable, "-m", "tests.support.hostile_files", "2000", "66"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)

    # Then every outcome is stable, the in-limit images are processed, and the peak stays bounded
    assert set(report["outcomes"].values()) <= STABLE_CODES | {"ready"}
    limit_cases = {name: code for name, code in report["outcomes"].items() if name.startswith("limit-")}
    assert len(limit_cases) == 6 and set(limit_cases.values()) == {"ready"}, limit_cases
    assert report["peak_mb"] < PEAK_MEMORY_BOUND_MB, report["raised_by"]
