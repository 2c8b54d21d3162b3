"""GLB container validation on files built here: header, chunk table and JSON, read only as far
as the JSON chunk goes."""

from __future__ import annotations

import json
import struct

import pytest

from medialib.imaging.glb import (
    CHUNK_BIN,
    CHUNK_JSON,
    MAX_GLB_CHUNKS,
    GlbRejected,
    read_from,
    validate_glb,
)

ASSET = {"asset": {"version": "2.0", "generator": "tests"}, "scenes": [{"nodes": []}], "scene": 0}


def chunk(kind: int, data: bytes, *, pad: bytes = b" ") -> bytes:
    data += pad * (-len(data) % 4)
    return struct.pack("<II", len(data), kind) + data


def json_chunk(document: object) -> bytes:
    return chunk(CHUNK_JSON, json.dumps(document).encode())


def glb(*chunks: bytes, magic: bytes = b"glTF", version: int = 2, length_delta: int = 0) -> bytes:
    body = b"".join(chunks)
    return struct.pack("<4sII", magic, version, 12 + len(body) + length_delta) + body


def check(data: bytes):
    return validate_glb(read_from(data), len(data))


def rejected(data: bytes) -> str:
    with pytest.raises(GlbRejected) as refused:
        check(data)
    assert refused.value.code == "corrupt"
    return str(refused.value)


def test_a_valid_glb_with_a_binary_buffer():
    summary = check(glb(json_chunk(ASSET), chunk(CHUNK_BIN, b"\x00\x01\x02", pad=b"\x00")))
    assert (summary.bin_bytes, summary.chunks, summary.generator) == (4, 2, "tests")
    assert summary.json_bytes % 4 == 0


def test_a_valid_glb_without_a_binary_buffer_or_with_unknown_chunks():
    assert check(glb(json_chunk(ASSET))).bin_bytes is None
    extra = chunk(0x12345678, b"ext!")
    assert check(glb(json_chunk(ASSET), chunk(CHUNK_BIN, b""), extra)).chunks == 3
    assert check(glb(json_chunk({"asset": {"version": "2.1"}}))).generator is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (glb(json_chunk(ASSET), magic=b"gltf"), "magic"),
        (glb(json_chunk(ASSET), magic=b"\x00\x00\x00\x00"), "magic"),
        (glb(json_chunk(ASSET), version=1), "version 1"),
        (glb(json_chunk(ASSET), version=3), "version 3"),
        (glb(json_chunk(ASSET), length_delta=4), "length"),
        (glb(json_chunk(ASSET), length_delta=-4), "length"),
        (glb(json_chunk(ASSET)) + b"\x00" * 4, "length"),
        (glb(), "no chunks"),
        (b"glTF\x02\x00\x00", "header"),
        (b"", "header"),
    ],
)
def test_a_bad_header(data, reason):
    assert reason in rejected(data)


def test_misaligned_chunks():
    document = json.dumps(ASSET).encode()
    document += b" " * (-len(document) % 4 + 1)  # one byte past the 4-byte boundary
    misaligned_json = struct.pack("<II", len(document), CHUNK_JSON) + document
    assert "multiple of 4" in rejected(glb(misaligned_json))
    misaligned_bin = struct.pack("<II", 3, CHUNK_BIN) + b"\x00\x00\x00"
    assert "multiple of 4" in rejected(glb(json_chunk(ASSET), misaligned_bin))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (glb(chunk(CHUNK_BIN, b"\x00" * 4), json_chunk(ASSET)), "first chunk"),
        (glb(chunk(CHUNK_JSON, b"")), "first chunk"),
        (glb(json_chunk(ASSET), json_chunk(ASSET)), "second JSON"),
        (glb(json_chunk(ASSET), chunk(0x1, b"abcd"), chunk(CHUNK_BIN, b"")), "BIN chunk is not the second"),
        (glb(json_chunk(ASSET), chunk(CHUNK_BIN, b""), chunk(CHUNK_BIN, b"")), "BIN chunk is not the second"),
        (glb(json_chunk(ASSET), struct.pack("<II", 1024, CHUNK_BIN)), "past the end"),
        (glb(json_chunk(ASSET), struct.pack("<II", 0xFFFFFFFC, CHUNK_BIN)), "past the end"),
        (glb(json_chunk(ASSET), b"\x00\x00\x00\x00"), "ends inside its chunk header"),
        (glb(*(chunk(0x1, b"") for _ in range(MAX_GLB_CHUNKS)), json_chunk(ASSET)), "first chunk"),
        (glb(json_chunk(ASSET), *(chunk(0x1, b"") for _ in range(MAX_GLB_CHUNKS))), "More than"),
    ],
)
def test_a_bad_chunk_table(data, reason):
    assert reason in rejected(data)


@pytest.mark.parametrize(
    "document",
    [
        b"[1, 2, 3]",
        b'"asset"',
        b"null",
        b"{}",
        b'{"asset": "2.0"}',
        b'{"asset": {}}',
        b'{"asset": {"version": 2.0}}',
        b'{"asset": {"version": "1.0"}}',
        b'{"asset": {"version": "2.0 "}}',
        b'{"asset": {"version": "20"}}',
        b'{"asset": {"version": "2.0"}',  # unterminated
        b"\xef\xbb\xbf" + json.dumps(ASSET).encode(),  # a BOM
        json.dumps(ASSET).encode("utf-16"),
        b'{"asset": {"version": "2.0"}, "x": "\xff"}',  # not UTF-8
        b"[" * 100_000 + b"]" * 100_000,
        b'{"asset": {"version": "2.0"}, "n": ' + b"9" * 5000 + b"}",
    ],
)
def test_json_that_is_not_a_gltf_2_object(document):
    rejected(glb(chunk(CHUNK_JSON, document)))


def test_a_truncated_file():
    whole = glb(json_chunk(ASSET), chunk(CHUNK_BIN, b"\x00" * 64))
    for cut in (12, 16, 20, 40, len(whole) - 4):
        truncated = whole[:cut]
        assert "length" in rejected(truncated)  # the header still names the whole length
        relabelled = truncated[:8] + struct.pack("<I", cut) + truncated[12:]
        if cut % 4 == 0 and cut > 12:
            rejected(relabelled)  # a chunk now runs past the end, or its header is cut


def test_only_the_header_chunk_headers_and_json_are_read():
    binary = b"\x00" * 1_000_000
    data = glb(json_chunk(ASSET), chunk(CHUNK_BIN, binary), chunk(0x7, b"tail"))
    reads: list[tuple[int, int]] = []
    inner = read_from(data)

    def recording(offset: int, length: int) -> bytes:
        reads.append((offset, length))
        return inner(offset, length)

    assert validate_glb(recording, len(data)).bin_bytes == len(binary)
    assert sum(length for _, length in reads) < 200
    assert len(reads) == 5  # header, JSON chunk header and data, BIN and extra chunk headers
