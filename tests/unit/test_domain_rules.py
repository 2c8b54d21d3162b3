"""The pure rules: ids, filenames, folders, search words, slugs, cursors, totals, staleness."""

from __future__ import annotations

import pytest

from medialib.domain.cursors import decode_cursor, encode_cursor
from medialib.domain.errors import PreconditionFailed, ValidationFailed
from medialib.domain.folders import normalize_folder
from medialib.domain.media import (
    MEDIA_ID_PATTERN,
    EntityRef,
    Media,
    clean_filename,
    counter_deltas,
    new_media_id,
    parse_original_key,
)
from medialib.domain.search import indexed_words, matches, query_words
from medialib.domain.tags import slugify


def media(**overrides) -> Media:
    fields = {
        "tenant_id": "t",
        "id": "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
        "kind": "image",
        "status": "ready",
        "filename": "a.jpg",
        "content_type": "image/jpeg",
        "original_key": "originals/t/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
        "created_at": "2026-11-23T00:00:00.000Z",
        "updated_at": "2026-11-23T00:00:00.000Z",
        "max_size": 10,
    }
    return Media(**{**fields, **overrides})


def test_media_ids_sort_by_creation_time_and_match_their_pattern():
    earlier, later = new_media_id(1_700_000_000_000), new_media_id(1_700_000_000_001)
    assert earlier < later
    assert MEDIA_ID_PATTERN.match(earlier) and MEDIA_ID_PATTERN.match(later)
    assert new_media_id(5) != new_media_id(5)  # 80 random bits after the time


@pytest.mark.parametrize(
    "raw", ["a/b.jpg", "a\\b.jpg", "bad\x00.jpg", "evil\u202egpj.exe", "", " ", "..", "x" * 256]
)
def test_filenames_refuse_separators_controls_bidi_and_bad_lengths(raw):
    with pytest.raises(ValueError):
        clean_filename(raw)


def test_filenames_are_nfc_normalised():
    assert clean_filename("Cafe\u0301.jpg") == "Caf\u00e9.jpg"


@pytest.mark.parametrize(
    ("raw", "expected"), [("/", "/"), ("/a/b/", "/a/b"), ("/Images/new set_1.v2", "/Images/new set_1.v2")]
)
def test_folder_paths_normalise(raw, expected):
    assert normalize_folder(raw) == expected


@pytest.mark.parametrize(
    "raw", ["a/b", "/a/../b", "/a/./b", "/a//b", "/a\x07", "/" + "a" * 255, "/" + "/".join("a" * 11), "/ a"]
)
def test_folder_paths_refuse_traversal_controls_length_and_depth(raw):
    with pytest.raises(ValueError):
        normalize_folder(raw)


def test_search_words_are_casefolded_word_runs():
    assert indexed_words("company-logo.png", None, None, None) == ["company", "logo", "png"]
    assert indexed_words("logo_dark.svg", "Dark Logo", None, None) == ["logo", "dark", "svg"]
    assert matches(["company", "logo"], query_words("Logo"))
    assert matches(["logo", "dark"], query_words("lo da"))
    assert not matches(["company", "logo"], query_words("ogo"))


def test_search_words_are_capped_per_item():
    caption = " ".join(f"w{n}" for n in range(100))
    assert len(indexed_words("a.jpg", None, None, caption)) == 24


@pytest.mark.parametrize("query", ["!!!", "   ", "-_-", "a b c d e f g h i"])
def test_queries_without_words_or_with_too_many_are_refused(query):
    with pytest.raises(ValueError):
        query_words(query)


def test_query_words_put_the_longest_first():
    assert query_words("a summer sale") == ["summer", "sale", "a"]


@pytest.mark.parametrize(
    ("name", "slug"),
    [("Summer Sale 2026!", "summer-sale-2026"), ("Crème brûlée", "creme-brulee"), ("A", "a")],
)
def test_slugs_derive_from_names(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["!!!", "漢字", "   "])
def test_names_that_slug_to_nothing_are_refused(name):
    with pytest.raises(ValueError):
        slugify(name)


def test_cursors_round_trip_and_refuse_edits_other_scopes_and_keys():
    cursor = encode_cursor({"k": {"pk": {"S": "T#a"}}}, scope="a|created_at", key="k" * 20)
    assert decode_cursor(cursor, scope="a|created_at", key="k" * 20) == {"k": {"pk": {"S": "T#a"}}}
    edited = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    for bad, scope, key in [
        (edited, "a|created_at", "k" * 20),
        (cursor, "b|created_at", "k" * 20),
        (cursor, "a|size", "k" * 20),
        (cursor, "a|created_at", "x" * 20),
        ("***", "a|created_at", "k" * 20),
    ]:
        with pytest.raises(ValidationFailed):
            decode_cursor(bad, scope=scope, key=key)


def test_totals_move_with_listing_status_folder_tags_and_use():
    pending = media(status="pending", folder="/a")
    ready = media(folder="/a", tag_ids=["tag_x"])
    assert counter_deltas(None, pending) == {"holds#/a": 1}
    assert counter_deltas(pending, ready) == {
        "all": 1,
        "kind#image": 1,
        "status#ready": 1,
        "folder#/a": 1,
        "tag#tag_x": 1,
        "unused": 1,
        "ready#kind#image": 1,
        "ready#folder#/a": 1,
    }
    used = ready.model_copy(update={"used_by": [EntityRef(type="product", id="p1")], "folder": "/b"})
    assert counter_deltas(ready, used) == {
        "unused": -1,
        "folder#/a": -1,
        "folder#/b": 1,
        "holds#/a": -1,
        "holds#/b": 1,
        "ready#folder#/a": -1,
        "ready#folder#/b": 1,
    }
    assert sum(counter_deltas(used, None).values()) == -len(counter_deltas(None, used))


def test_original_keys_parse_only_in_the_originals_layout():
    assert parse_original_key("originals/t/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P") == (
        "t",
        "med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
    )
    for key in [
        "variants/t/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
        "originals/t/x",
        "originals/med_01JD3Z8Q4W5E6R7T8Y9V0J1Q2P",
    ]:
        assert parse_original_key(key) is None


def test_if_match_accepts_strong_weak_bare_and_star():
    from medialib.services.media import check_version

    item = media(version=3)
    for header in ['"3"', 'W/"3"', "3", "*", '"1", "3"', None]:
        check_version(item, header)
    with pytest.raises(PreconditionFailed):
        check_version(item, '"2"')


def test_processing_skips_events_it_already_reflects_or_that_are_older():
    from medialib.services.processing import LandedObject, is_stale

    done = media(source_etag="e1", source_sequencer="0065A")
    assert is_stale(done, LandedObject("k", "e1", "0065A", 1))  # the same event again
    assert is_stale(done, LandedObject("k", "e0", "00659", 1))  # an older event
    assert not is_stale(done, LandedObject("k", "e2", "0065B", 1))  # a newer upload
    assert not is_stale(done, LandedObject("k", "e2", "0065A", 1))  # emulator: same sequencer, new object
    assert not is_stale(media(status="processing"), LandedObject("k", "e1", "0065A", 1))
