"""Validation of a binary glTF 2.0 container (GLB): its header, its chunk table and its JSON.

A GLB is a 12-byte header (magic ``glTF``, version 2, total length), then chunks, each an
8-byte header (length, type) and its data: first the JSON chunk, then at most one BIN chunk;
chunks of other types may follow and are ignored, as the specification asks of readers.
Every chunk length is a multiple of 4 and every chunk lies inside the file, whose length is the
header's. The JSON chunk is UTF-8 holding an object whose ``asset.version`` is ``2.<minor>``.

The file is read through ``read_at(offset, length)``, so a caller may hand in bytes it holds or
range reads of storage: only the header, the chunk headers and the JSON chunk are read (at most
``MAX_GLB_CHUNKS`` chunk headers), never the binary buffers. No AWS here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from medialib.domain.failures import FailureCode
from medialib.imaging.rejection import Rejected

MAGIC = b"glTF"
VERSION = 2
HEADER_BYTES = 12
CHUNK_HEADER_BYTES = 8
CHUNK_JSON = 0x4E4F534A  # "JSON" read as a little-endian uint32
CHUNK_BIN = 0x004E4942  # "BIN\0"
MAX_GLB_CHUNKS = 64
_ASSET_VERSION = re.compile(r"2\.[0-9]+\Z")

ReadAt = Callable[[int, int], bytes]


class GlbRejected(Rejected):
    """The file is not a valid GLB; ``code`` is the item's failure code."""

    def __init__(self, reason: str, code: FailureCode = "corrupt") -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class GlbSummary:
    json_bytes: int
    bin_bytes: int | None  # None without a BIN chunk
    chunks: int
    generator: str | None  # asset.generator, when it is a string


def read_from(data: bytes) -> ReadAt:
    """``read_at`` over bytes already in memory."""
    view = memoryview(data)
    return lambda offset, length: bytes(view[offset : offset + length])


def validate_glb(read_at: ReadAt, size: int) -> GlbSummary:
    """The GLB's outline when header, chunks and JSON are valid, else ``GlbRejected``."""
    header = _exactly(read_at, 0, HEADER_BYTES, "header")
    if header[:4] != MAGIC:
        raise GlbRejected("The file does not start with the glTF magic")
    version = int.from_bytes(header[4:8], "little")
    if version != VERSION:
        raise GlbRejected(f"GLB version {version} is not 2")
    length = int.from_bytes(header[8:12], "little")
    if length != size:
        raise GlbRejected(f"The header's length {length} is not the file's {size} bytes")
    offset, index = HEADER_BYTES, 0
    json_bytes, bin_bytes, document = 0, None, None
    while offset < size:
        if index >= MAX_GLB_CHUNKS:
            raise GlbRejected(f"More than {MAX_GLB_CHUNKS} chunks")
        chunk = _exactly(read_at, offset, CHUNK_HEADER_BYTES, "chunk header")
        chunk_length = int.from_bytes(chunk[:4], "little")
        chunk_type = int.from_bytes(chunk[4:8], "little")
        start = offset + CHUNK_HEADER_BYTES
        if chunk_length % 4:
            raise GlbRejected(f"Chunk {index} is {chunk_length} bytes, not a multiple of 4")
        if start + chunk_length > size:
            raise GlbRejected(f"Chunk {index} runs past the end of the file")
        if index == 0:
            if chunk_type != CHUNK_JSON or chunk_length == 0:
                raise GlbRejected("The first chunk is not a JSON chunk")
            json_bytes = chunk_length
            document = _json_document(_exactly(read_at, start, chunk_length, "JSON chunk"))
        elif chunk_type == CHUNK_JSON:
            raise GlbRejected("A second JSON chunk")
        elif chunk_type == CHUNK_BIN:
            if index != 1:
                raise GlbRejected("The BIN chunk is not the second chunk")
            bin_bytes = chunk_length
        offset, index = start + chunk_length, index + 1
    if document is None:
        raise GlbRejected("The file has no chunks")
    generator = document["asset"].get("generator")
    return GlbSummary(json_bytes, bin_bytes, index, generator if isinstance(generator, str) else None)


def _exactly(read_at: ReadAt, offset: int, length: int, what: str) -> bytes:
    data = read_at(offset, length)
    if len(data) != length:
        raise GlbRejected(f"The file ends inside its {what}")
    return data


def _json_document(chunk: bytes) -> dict:
    # The chunk is padded to 4 bytes with spaces; a BOM is not allowed.
    try:
        document = json.loads(chunk.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as broken:
        raise GlbRejected("The JSON chunk is not UTF-8 JSON") from broken
    if not isinstance(document, dict):
        raise GlbRejected("The JSON chunk is not an object")
    asset = document.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if not isinstance(version, str) or not _ASSET_VERSION.match(version):
        raise GlbRejected("The JSON has no glTF 2 asset.version")
    return document
