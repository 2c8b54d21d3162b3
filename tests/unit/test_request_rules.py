"""The rules for what clients send: filenames that fit every key, strict request types,
bodies no parser should read, and which answers an Idempotency-Key remembers."""

from __future__ import annotations

import base64
import json
import string

import pytest
from pydantic import ValidationError

from medialib.api.app import MAX_JSON_DEPTH, unreadable_request
from medialib.api.idempotency import is_final
from medialib.domain.media import MAX_FILENAME_KEY_BYTES, clean_filename, new_media_id
from medialib.domain.requests import (
    MAX_FILE_SIZE,
    FileFingerprint,
    MediaPatch,
    PresignRequest,
    TagPatch,
)
from medialib.domain.search import indexed_words

# DynamoDB's key limits, in UTF-8 bytes.
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
LONGEST_TENANT = "t" * 63


@pytest.mark.parametrize(
    "raw",
    [
        "\U0001f600" * 251,  # 1,004 bytes
        "\u0390" * 171,  # 6 bytes each once casefolded
        "\u0390" * 128,  # 256 bytes as sent, 768 once casefolded
        "x" * 256,
    ],
)
def test_filenames_are_limited_in_characters_and_in_casefolded_bytes(raw):
    with pytest.raises(ValueError):
        clean_filename(raw)


@pytest.mark.parametrize(
    "char",
    [
        *"\u200b\u200c\u200d\u2060\ufeff",  # zero-width
        *"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",  # bidi
        *"\u0000\u001f\u007f\u0085\u009f\u2028\u2029\u00ad",  # control, separators, soft hyphen
        *"\u2215\u2044\uff0f\u29f8\uff3c\u2216\u29f9\ufe68",  # lookalike slashes
        "\ud800",
        "\udfff",  # lone surrogates
        "\U000e0041",  # tag character
    ],
)
def test_filenames_refuse_invisible_reordering_and_slash_like_characters(char):
    with pytest.raises(ValueError):
        clean_filename(f"photo{char}name.jpg")


@pytest.mark.parametrize(
    "name",
    ["x" * 255, "\u00e9" * 255, "\u4e2d" * 255, "\U0001f600" * 191, "\u2764\ufe0f.png", "Café 2026 (1).jpg"],
)
def test_names_up_to_the_limits_are_kept(name):
    assert clean_filename(name) == name


def test_every_accepted_filename_fits_the_filename_and_name_size_keys():
    """The largest a casefolded filename can be, in the sort key of the by-filename index and
    the partition key of the name+size rows (media_store's layouts)."""
    name = "\U0001f600" * (MAX_FILENAME_KEY_BYTES // 4)
    folded = clean_filename(name).casefold()
    sort_key = f"{folded}\x01{new_media_id()}"
    name_row = f"T#{LONGEST_TENANT}#name#{folded}#{MAX_FILE_SIZE}"
    assert len(sort_key.encode()) <= MAX_SORT_KEY_BYTES
    assert len(name_row.encode()) <= MAX_PARTITION_KEY_BYTES


def test_search_word_rows_fit_their_keys_whatever_the_text():
    """Words are cut to a few dozen characters, so the longest text still makes short keys."""
    text = "\U0001d400" * 1000 + " " + "\ufdfa" * 500  # 4-byte letters; a ligature NFKC expands
    media_id = new_media_id()
    for word in indexed_words(text, text, text, text):
        assert len(f"T#{LONGEST_TENANT}#word#{word[0]}".encode()) <= MAX_PARTITION_KEY_BYTES
        assert len(f"{word}#{media_id}".encode()) <= MAX_SORT_KEY_BYTES


@pytest.mark.parametrize("size", [True, "10", 10.0, 0, MAX_FILE_SIZE + 1])
def test_presign_size_is_a_strict_positive_bounded_integer(size):
    with pytest.raises(ValidationError):
        PresignRequest.model_validate({"filename": "a.jpg", "content_type": "image/jpeg", "size": size})


def test_presign_size_accepts_integers():
    request = PresignRequest.model_validate({"filename": "a.jpg", "content_type": "image/jpeg", "size": 10})
    assert request.size == 10


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (MediaPatch, {"focal_point": {"x": "10", "y": 5}}),
        (MediaPatch, {"focal_point": {"x": True, "y": 5}}),
        (MediaPatch, {"alt": 5}),
        (TagPatch, {"order": "3"}),
        (TagPatch, {"order": 3.0}),
        (FileFingerprint, {"filename": "a.jpg", "size": False}),
    ],
)
def test_request_models_never_coerce(model, body):
    with pytest.raises(ValidationError):
        model.model_validate(body)


def test_focal_points_accept_integers_and_fractions():
    patch = MediaPatch.model_validate({"focal_point": {"x": 10, "y": 33.5}})
    assert patch.changes() == {"focal_point": {"x": 10.0, "y": 33.5}}


def event(body: str | None, *, base64_encoded: bool = False, **headers: str) -> dict:
    return {
        "path": "/v1/media/presign",
        "headers": {"Content-Type": "application/json", **headers},
        "queryStringParameters": None,
        "body": body,
        "isBase64Encoded": base64_encoded,
        "requestContext": {"requestId": "r-1"},
    }


def problem(found) -> tuple[int, str]:
    assert found is not None
    return found.status_code, json.loads(found.body)["code"]


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1),
        '{"size": ' + "9" * 5000 + "}",
        '{"size": Infinity}',
        '{"filename": "\\ud800"}',
        '{"\\udc00": 1}',
        "{not json",
    ],
)
def test_bodies_no_parser_should_accept(body):
    assert problem(unreadable_request(event(body))) == (400, "validation_error")


def test_base64_bodies_must_be_base64_of_utf8():
    not_utf8 = base64.b64encode(b"\xff\xfe{}").decode()
    assert problem(unreadable_request(event(not_utf8, base64_encoded=True))) == (400, "validation_error")
    assert problem(unreadable_request(event("***", base64_encoded=True))) == (400, "validation_error")
    good = base64.b64encode(b'{"size": 10}').decode()
    assert unreadable_request(event(good, base64_encoded=True)) is None


def test_lone_surrogates_outside_the_body_are_refused():
    found = event(None)
    found["queryStringParameters"] = {"query": "caf\udce9"}
    assert problem(unreadable_request(found)) == (400, "validation_error")
    assert problem(unreadable_request(event(None, **{"Idempotency-Key": "k\ud800"}))) == (
        400,
        "validation_error",
    )


def test_bodies_of_another_type_are_415_and_readable_ones_pass():
    assert problem(unreadable_request(event("a=1", **{"Content-Type": "text/plain"}))) == (
        415,
        "unsupported_media_type",
    )
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    for body in (None, "", '{"filename": "caf\\u00e9.jpg", "size": 10}', nested):
        assert unreadable_request(event(body)) is None
    assert unreadable_request(event("{}", **{"Content-Type": "application/json; charset=utf-8"})) is None


@pytest.mark.parametrize("status", [200, 201, 204, 413, 415, 422])
def test_final_answers_are_remembered(status):
    assert is_final(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 412, 429, 500, 502, 503])
def test_answers_that_may_change_on_retry_are_not(status):
    assert not is_final(status)


def test_ordinary_punctuation_is_kept():
    printable = string.ascii_letters + string.digits + " -_.()[]&,'!+=@#"
    assert clean_filename(printable) == printable
