"""The stable ``error.code`` of a failed item: every code processing and upload checks can end an
item with, and the message stored with it. The one list: readers' rejections, verdicts and the
OpenAPI document's enum all take their codes from here (mypy holds every emitter to it)."""

from typing import Literal, get_args

FailureCode = Literal[
    "unsupported_type",
    "type_mismatch",
    "corrupt",
    "too_many_pixels",
    "too_large",
    "too_many_frames",
    "unsafe_svg",
    "processing_failed",
]

FAILURE_CODES: tuple[FailureCode, ...] = get_args(FailureCode)

FAILURE_MESSAGES: dict[FailureCode, str] = {
    "unsupported_type": "The file is not an accepted type",
    "type_mismatch": "The file's contents do not match its declared type",
    "corrupt": "The file could not be decoded",
    "too_many_pixels": "The image has more pixels than allowed",
    "too_large": "The file is larger than allowed",
    "too_many_frames": "The animation has more frames than allowed",
    "unsafe_svg": "The SVG declares a DTD or entities, or nests too deeply, to be served safely",
    "processing_failed": "The file could not be processed; upload it again",
}
