"""Videos through imaging/video.py: made here with the same static ffmpeg the processing layer
ships (imageio-ffmpeg), read back for their duration and displayed size, and a poster frame
turned into WebP variants and a placeholder. Damaged and fake files fail with stable codes."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from medialib.imaging.sniff import MP4, QUICKTIME, WEBM, sniff
from medialib.imaging.video import VideoRejected, ffmpeg_path, parse_summary, process_video

SIZE = (320, 240)


def make_video(path: Path, *, codec: str, seconds: float = 1.5, extra: tuple[str, ...] = ()) -> Path:
    """A small test-pattern video encoded by ffmpeg."""
    width, height = SIZE
    source = f"testsrc=size={width}x{height}:rate=10:duration={seconds}"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", source,
         "-c:v", codec, "-pix_fmt", "yuv420p", *extra, "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("videos")
    made = {
        "mp4": make_video(folder / "h264.mp4", codec="libx264"),
        "webm-vp9": make_video(folder / "vp9.webm", codec="libvpx-vp9"),
        "webm-vp8": make_video(folder / "vp8.webm", codec="libvpx"),
        "mov": make_video(folder / "h264.mov", codec="libx264"),
    }
    # The same pixels, shown turned a quarter: the display matrix, not the coded frames.
    made["rotated"] = folder / "rotated.mp4"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-display_rotation", "90",
         "-i", str(made["mp4"]), "-c", "copy", "-y", str(made["rotated"])],
        check=True, timeout=60,
    )  # fmt: skip
    return made


CASES = [("mp4", MP4), ("webm-vp9", WEBM), ("webm-vp8", WEBM), ("mov", QUICKTIME)]


@pytest.mark.parametrize(("name", "sniffed"), CASES, ids=[name for name, _ in CASES])
def test_a_video_gets_its_duration_size_and_poster_variants(videos, name, sniffed):
    path = videos[name]
    assert sniff(path.read_bytes()[:4096]) == sniffed  # what processing hands over

    video = process_video(str(path), sniffed.content_type)

    assert video.duration == pytest.approx(1.5, abs=0.05)
    assert (video.width, video.height) == SIZE
    # A 320x240 video fits every box but the smallest: one variant, as for an image that size.
    assert [(v.name, v.width, v.height) for v in video.variants] == [("150", 150, 113)]
    poster = Image.open(io.BytesIO(video.variants[0].data))
    assert (poster.format, poster.size) == ("WEBP", (150, 113))
    assert video.blurhash and video.dominant_color and video.dominant_color.startswith("#")
    assert video.no_poster is None


def test_a_rotated_video_reports_and_shows_its_displayed_size(videos):
    video = process_video(str(videos["rotated"]), MP4.content_type)

    assert (video.width, video.height) == (240, 320)
    assert [(v.name, v.width, v.height) for v in video.variants] == [("150", 113, 150)]


def test_the_poster_is_the_frame_at_one_second(tmp_path):
    # Red until 0.9 s, blue after: the poster (at 1 s of 2 s) is blue.
    path = tmp_path / "red-then-blue.mp4"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", "color=c=black:size=320x240:rate=10:duration=2",
         "-vf", "geq=r='if(gte(T,0.9),0,255)':g=0:b='if(gte(T,0.9),255,0)'",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip

    video = process_video(str(path), MP4.content_type)

    red, green, blue = (int(video.dominant_color[i : i + 2], 16) for i in (1, 3, 5))
    assert blue > 200 and red < 60 and green < 60


def test_a_video_shorter_than_two_seconds_gets_the_frame_halfway(tmp_path):
    path = make_video(tmp_path / "short.webm", codec="libvpx-vp9", seconds=0.4)

    video = process_video(str(path), WEBM.content_type)

    assert video.duration == pytest.approx(0.4, abs=0.05)
    assert len(video.variants) == 1


def test_a_truncated_video_is_corrupt(videos, tmp_path):
    # The first 3 kB of a file whose index (moov) follows the frames: no container to read.
    path = tmp_path / "truncated.mp4"
    path.write_bytes(videos["mp4"].read_bytes()[:3000])

    with pytest.raises(VideoRejected) as rejected:
        process_video(str(path), MP4.content_type)
    assert rejected.value.code == "corrupt"


def test_an_mp4_header_over_garbage_is_corrupt(videos, tmp_path):
    path = tmp_path / "fake.mp4"
    path.write_bytes(videos["mp4"].read_bytes()[:32] + bytes(range(256)) * 40)
    assert sniff(path.read_bytes()) == MP4  # it passes the sniffer: only ffmpeg can tell

    with pytest.raises(VideoRejected) as rejected:
        process_video(str(path), MP4.content_type)
    assert rejected.value.code == "corrupt"


def test_a_webm_read_with_the_mp4_demuxer_is_corrupt_never_guessed(videos):
    # The sniffed type names the demuxer: ffmpeg never picks one from the bytes.
    with pytest.raises(VideoRejected) as rejected:
        process_video(str(videos["webm-vp9"]), MP4.content_type)
    assert rejected.value.code == "corrupt"


def test_an_mp4_without_a_video_stream_is_not_a_video(tmp_path):
    path = tmp_path / "audio.mp4"
    subprocess.run(
        [ffmpeg_path(), "-hide_banner", "-loglevel", "error", "-f", "lavfi",
         "-i", "sine=frequency=440:duration=1", "-c:a", "aac", "-y", str(path)],
        check=True, timeout=60,
    )  # fmt: skip

    with pytest.raises(VideoRejected) as rejected:
        process_video(str(path), MP4.content_type)
    assert rejected.value.code == "unsupported_type"


def test_frames_over_the_pixel_limit_are_too_many_pixels(videos):
    with pytest.raises(VideoRejected) as rejected:
        process_video(str(videos["mp4"]), MP4.content_type, max_pixels=320 * 240 - 1)
    assert rejected.value.code == "too_many_pixels"


def test_a_poster_out_of_time_leaves_the_video_without_variants(videos):
    # No ffmpeg starts, seeks, decodes and encodes within a millisecond.
    video = process_video(str(videos["mp4"]), MP4.content_type, poster_seconds=0.001)

    assert (video.duration, video.width, video.height) == (pytest.approx(1.5, abs=0.05), 320, 240)
    assert video.variants == [] and video.blurhash is None and video.no_poster == "limits"


def test_a_container_ffmpeg_runs_out_of_memory_on_is_corrupt(videos):
    # 64 MB of address space does not even hold the static binary's start-up.
    with pytest.raises(VideoRejected) as rejected:
        process_video(str(videos["mp4"]), MP4.content_type, memory_bytes=64 * 1024 * 1024)
    assert rejected.value.code == "corrupt"


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (
            b"Input #0, mov,mp4 from 'x':\n  Duration: 01:02:03.50, start: 0.0\n"
            b"  Stream #0:0[0x1](und): Video: h264 (High), yuv420p(tv, bt709), "
            b"1920x1080 [SAR 1:1 DAR 16:9], 30 fps\n"
            b"      displaymatrix: rotation of -90.00 degrees\n",
            (3723.5, 1080, 1920),
        ),
        (
            b"Input #0, matroska,webm from 'x':\n  Duration: N/A, start: 0.0\n"
            b"  Stream #0:0: Audio: opus, 48000 Hz\n"
            b"      displaymatrix: rotation of 90.00 degrees\n"
            b"  Stream #0:1: Video: vp9, yuv420p(tv), 640x360, SAR 1:1 DAR 16:9, 25 fps\n",
            (None, 640, 360),
        ),
    ],
    ids=["rotated-hour", "no-duration-audio-first"],
)
def test_ffmpegs_summary_is_read_for_the_first_video_stream(summary, expected):
    probe = parse_summary(summary)

    assert (probe.duration, probe.width, probe.height) == expected
