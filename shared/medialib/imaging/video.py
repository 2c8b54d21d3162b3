"""Duration, size and a poster frame of an untrusted video (MP4, QuickTime, WebM) with ffmpeg.

ffmpeg is the static binary the ``imageio-ffmpeg`` wheel ships (it has no ffprobe): the container
is read by ``ffmpeg -i`` (its stream summary gives the duration, the coded size and the display
rotation), then one frame is decoded at ``min(1 s, duration / 2)``, turned upright by ffmpeg,
scaled to the largest variant box and written as PNG on stdout. The poster becomes the same WebP
variants and placeholder as an image.

ffmpeg parses hostile bytes, so each run is bounded: the demuxer is the one the sniffed type
names (never ffmpeg's own guess, which could pick a playlist or concat format that opens other
files or URLs), the file is a local path, one thread, a wall-clock timeout, CPU-time,
address-space and output-size limits, and an environment without the function's credentials.

Outcomes: a file whose container ffmpeg cannot read, or none of whose frames decodes, is
``corrupt``; a container without a video stream (audio only) is ``unsupported_type``; frames
larger than the image pixel limit are ``too_many_pixels``; a poster
that runs out of time or memory leaves the video ``ready`` without variants, its duration and
size kept.
"""

from __future__ import annotations

import math
import os
import re
import resource
import subprocess
import tempfile
from dataclasses import dataclass, field
from io import BytesIO

from PIL import Image

from medialib.domain.failures import FailureCode
from medialib.imaging.pipeline import RenderedVariant, render_preview, variant_sizes
from medialib.imaging.rejection import Rejected

__all__ = [
    "POSTER_MEMORY_BYTES",
    "POSTER_SECONDS",
    "PROBE_SECONDS",
    "ProcessedVideo",
    "VideoRejected",
    "ffmpeg_path",
    "process_video",
]

PROBE_SECONDS = 10.0  # reading the container's header
POSTER_SECONDS = 20.0  # seeking to and decoding one frame, scaling it, writing the PNG
POSTER_AT_SECONDS = 1.0  # the poster is taken here, or halfway through a shorter video
# ffmpeg's address space: one decoder thread, a frame of up to 8K and the scaler fit well within.
POSTER_MEMORY_BYTES = 1024 * 1024 * 1024
# What ffmpeg may write (stdout and stderr each): a PNG of at most 1200x1200 RGB is under 5 MB.
OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024
# The demuxer for each sniffed type: ffmpeg never probes the format itself.
DEMUXERS = {"video/mp4": "mov", "video/quicktime": "mov", "video/webm": "matroska"}
# What the child inherits: nothing of the function's (AWS credentials above all).
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TZ")

_DURATION = re.compile(rb"^\s*Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)", re.MULTILINE)
_VIDEO_STREAM = re.compile(rb"^\s*Stream #\d+:\d+.*?: Video: (.*)$", re.MULTILINE)
_SIZE = re.compile(rb", (\d{1,6})x(\d{1,6})[ ,\[]")
_ROTATION = re.compile(rb"rotation of (-?\d+(?:\.\d+)?) degrees")
_INPUT = re.compile(rb"^Input #0, ", re.MULTILINE)


class VideoRejected(Rejected):
    """The bytes are not a video ffmpeg can read; ``code`` is the item's failure code."""

    def __init__(self, code: FailureCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class ProcessedVideo:
    duration: float | None  # seconds; None when the container does not say
    width: int  # as displayed: after the container's rotation
    height: int
    variants: list[RenderedVariant] = field(default_factory=list)  # largest first; empty: no poster
    blurhash: str | None = None
    dominant_color: str | None = None
    no_poster: str | None = None  # why there are no variants: "limits" (time, memory or output)


@dataclass(frozen=True)
class _Probe:
    duration: float | None
    width: int
    height: int


def ffmpeg_path() -> str:
    """The static ffmpeg binary of the imageio-ffmpeg wheel (in the processing layer)."""
    import imageio_ffmpeg  # only processing has the layer that holds it

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def process_video(
    path: str,
    content_type: str,
    *,
    probe_seconds: float = PROBE_SECONDS,
    poster_seconds: float = POSTER_SECONDS,
    memory_bytes: int = POSTER_MEMORY_BYTES,
    max_pixels: int = 50_000_000,
) -> ProcessedVideo:
    """Read the video stored at ``path`` (sniffed as ``content_type``); raises VideoRejected."""
    demuxer = DEMUXERS.get(content_type)
    if demuxer is None:
        raise VideoRejected("unsupported_type", f"No demuxer for {content_type}")
    probe = _probe(path, demuxer, probe_seconds, memory_bytes)
    if probe.width * probe.height > max_pixels:  # a frame the header says is larger than images may be
        raise VideoRejected("too_many_pixels", f"The video's frames have more than {max_pixels} pixels")
    sizes = variant_sizes(probe.width, probe.height)
    at = min(POSTER_AT_SECONDS, probe.duration / 2) if probe.duration else 0.0
    try:
        poster = _poster(path, demuxer, at, sizes[0][1], poster_seconds, memory_bytes)
        if poster is None and at > 0:
            poster = _poster(path, demuxer, 0.0, sizes[0][1], poster_seconds, memory_bytes)
    except _OutOfLimits:
        return ProcessedVideo(probe.duration, probe.width, probe.height, no_poster="limits")
    if poster is None:
        raise VideoRejected("corrupt", "No frame of the video could be decoded")
    # Upright already (ffmpeg applied the rotation) and in sRGB as ffmpeg converts it.
    preview = render_preview(poster, sizes)
    return ProcessedVideo(
        duration=probe.duration,
        width=probe.width,
        height=probe.height,
        variants=preview.variants,
        blurhash=preview.blurhash,
        dominant_color=preview.dominant_color,
    )


def _probe(path: str, demuxer: str, seconds: float, memory_bytes: int) -> _Probe:
    """The container's summary, as ``ffmpeg -i`` prints it (it exits 1: no output is named)."""
    command = ["-hide_banner", "-nostdin", "-threads", "1", "-f", demuxer, "-i", path]
    try:
        _, summary, _ = _run(command, seconds, memory_bytes)
    except _OutOfLimits as limits:
        raise VideoRejected("corrupt", "The container could not be read within the limits") from limits
    if _INPUT.search(summary) is None:
        raise VideoRejected("corrupt", "ffmpeg cannot read the container")
    return parse_summary(summary)


def parse_summary(summary: bytes) -> _Probe:
    """Duration, and the first video stream's size as displayed, from ffmpeg's input summary."""
    stream = _VIDEO_STREAM.search(summary)
    if stream is None:
        raise VideoRejected("unsupported_type", "The file holds no video stream")
    size = _SIZE.search(stream.group(1))
    if size is None:
        raise VideoRejected("corrupt", "The video stream has no size")
    width, height = int(size.group(1)), int(size.group(2))
    if width < 1 or height < 1:
        raise VideoRejected("corrupt", "The video stream has no size")
    # The display matrix follows the stream line, before the next stream.
    following = summary[stream.end() :]
    next_stream = re.search(rb"^\s*Stream #", following, re.MULTILINE)
    rotation = _ROTATION.search(following[: next_stream.start() if next_stream else None])
    if rotation is not None and round(float(rotation.group(1))) % 180 == 90:
        width, height = height, width
    return _Probe(duration=_duration(summary), width=width, height=height)


def _duration(summary: bytes) -> float | None:
    found = _DURATION.search(summary)
    if found is None:  # "Duration: N/A": a live or unfinished recording
        return None
    hours, minutes, seconds = int(found.group(1)), int(found.group(2)), float(found.group(3))
    total = hours * 3600 + minutes * 60 + seconds
    return round(total, 3) if math.isfinite(total) else None


def _poster(
    path: str, demuxer: str, at: float, size: tuple[int, int], seconds: float, memory_bytes: int
) -> Image.Image | None:
    """The frame at ``at`` seconds, upright and scaled to ``size``, or None when none decodes."""
    width, height = size
    command = [
        "-hide_banner", "-nostdin", "-loglevel", "error", "-threads", "1", "-filter_threads", "1",
        "-ss", f"{at:.3f}", "-f", demuxer, "-i", path,
        "-map", "0:v:0", "-an", "-sn", "-dn", "-frames:v", "1",
        "-vf", f"scale={width}:{height}:flags=lanczos,format=rgb24",
        "-f", "image2pipe", "-c:v", "png", "-",
    ]  # fmt: skip
    returncode, _, png = _run(command, seconds, memory_bytes)
    if returncode != 0 or not png:
        return None
    try:
        with Image.open(BytesIO(png), formats=["PNG"]) as image:
            image.load()
            return image.convert("RGB")
    except Exception:  # what ffmpeg wrote is not the PNG it was asked for
        return None


class _OutOfLimits(Exception):
    """ffmpeg ran out of time, CPU, memory or output."""


def _run(arguments: list[str], seconds: float, memory_bytes: int) -> tuple[int, bytes, bytes]:
    """Run ffmpeg bounded; (exit code, stderr, stdout), each read up to the output limit."""
    cpu = math.ceil(seconds) + 1

    def limit() -> None:  # in the child, before ffmpeg starts: only async-signal-safe calls
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT_LIMIT_BYTES, OUTPUT_LIMIT_BYTES))

    env = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    # Output goes to files, where RLIMIT_FSIZE stops a child that writes without end.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(  # noqa: S603 - the bundled binary; the path is ours
                [ffmpeg_path(), *arguments],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                timeout=seconds,
                env=env,
                preexec_fn=limit,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            raise _OutOfLimits("timeout") from expired
        if done.returncode < 0:  # killed: SIGXCPU, SIGXFSZ, SIGKILL, or SIGSEGV out of memory
            raise _OutOfLimits(f"signal {-done.returncode}")
        out.seek(0)
        err.seek(0)
        return done.returncode, err.read(OUTPUT_LIMIT_BYTES), out.read(OUTPUT_LIMIT_BYTES)
