"""The media browser driven as a person would, in headless Chromium against the local stack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import Visit

pytestmark = pytest.mark.e2e
PHOTOS = {"red-apple.jpg": (200, 30, 30), "blue-sky.png": (40, 90, 220), "green-leaf.jpg": (30, 160, 60)}


def photos(folder: Path, colours: dict[str, tuple[int, int, int]] = PHOTOS) -> list[Path]:
    """Pictures larger than 400 px, so each gets a 400 px variant."""
    paths = []
    for name, colour in colours.items():
        path = folder / name
        Image.new("RGB", (900, 600), colour).save(path)
        paths.append(path)
    return paths


def api(visit: Visit, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {visit.key}", **kwargs.pop("headers", {})}
    return requests.request(method, f"{visit.api_url}{path}", headers=headers, timeout=30, **kwargs)


def card(page: Page, filename: str):
    return page.locator("#grid .card", has_text=filename)


def upload_ready(visit: Visit, paths: list[Path]) -> dict[str, str]:
    """Upload through the picker and wait for every file to be ready with its thumbnail; name → id."""
    page = visit.page
    page.get_by_label("Upload files").set_input_files([str(path) for path in paths])
    for path in paths:
        row = page.locator(f'#uploads .upload[data-filename="{path.name}"]')
        expect(row).to_have_attribute("data-state", "done")
        expect(row.get_by_role("progressbar")).to_have_js_property("value", 100)
        expect(card(page, path.name)).to_have_attribute("data-status", "ready")
        expect(card(page, path.name).locator(".thumb")).to_have_class(re.compile(r"\bloaded\b"))
    return {path.name: card(page, path.name).get_attribute("data-media-id") or "" for path in paths}


def test_wrong_key_shows_the_apis_error(visit: Visit) -> None:
    page = visit.page
    visit.sign_in("mlk_not-a-real-key")
    expect(page.get_by_role("alert").filter(has_text="revoked API key")).to_have_text(
        "Missing, malformed, unknown or revoked API key"
    )
    expect(page.locator("#library")).to_be_hidden()
    assert page.evaluate("sessionStorage.length") == 0


def test_a_day_in_the_library(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    expect(page.locator("#list-status")).to_have_text("No media matches.")
    # The key is kept for this tab only: in sessionStorage, never in the URL or a cookie.
    assert page.evaluate("Object.values(sessionStorage)") == [visit.key]
    assert visit.key not in page.url
    assert page.context.cookies() == []

    ids = upload_ready(visit, photos(tmp_path))
    expect(page.locator("#grid .card")).to_have_count(3)
    assert all(re.fullmatch(r"med_\w+", media_id) for media_id in ids.values())
    thumbnail = card(page, "red-apple.jpg").locator("img")
    assert "/400.webp" in (thumbnail.get_attribute("src") or "")
    assert thumbnail.evaluate("image => image.naturalWidth") == 400

    # Sort and order, and a kind filter that matches nothing.
    filters = page.get_by_role("search")
    filters.get_by_label("Sort").select_option(label="Filename")
    filters.get_by_label("Order").select_option(label="Ascending")
    names = page.locator("#grid .card .name")
    expect(names).to_have_text(["blue-sky.png", "green-leaf.jpg", "red-apple.jpg"])
    filters.get_by_label("Kind").select_option(label="Documents")
    expect(page.locator("#list-status")).to_have_text("No media matches.")
    filters.get_by_label("Kind").select_option(label="All")
    expect(page.locator("#grid .card")).to_have_count(3)

    # Alt text and a tag, saved from the panel and read back through the API.
    card(page, "red-apple.jpg").click()
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("heading", name="red-apple.jpg")).to_be_visible()
    expect(panel.get_by_text("900 \N{MULTIPLICATION SIGN} 600")).to_be_visible()
    panel.get_by_label("Alt text").fill("A red apple on a white table")
    panel.get_by_label("Tags (comma-separated)").fill("Fruit")
    panel.get_by_role("button", name="Save").click()
    expect(panel.locator(".notice")).to_have_text("Saved.")
    stored = api(visit, "GET", f"/v1/media/{ids['red-apple.jpg']}").json()["data"]
    assert stored["alt"] == "A red apple on a white table"
    assert stored["tags"] == ["fruit"]
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()

    # Filter by the tag, then search by a word prefix.
    filters.get_by_label("Tag").select_option(label="Fruit")
    expect(page.locator("#grid .card")).to_have_count(1)
    expect(page.locator(f'#grid [data-media-id="{ids["red-apple.jpg"]}"]')).to_be_visible()
    filters.get_by_label("Tag").select_option("")
    filters.get_by_label("Search").fill("gre")
    expect(page.locator("#grid .card")).to_have_count(1)
    expect(card(page, "green-leaf.jpg")).to_be_visible()

    # Delete it from its panel.
    card(page, "green-leaf.jpg").click()
    panel.get_by_role("button", name="Delete").click()
    panel.get_by_role("button", name="Yes, delete").click()
    expect(panel).to_be_hidden()
    expect(page.locator("#grid .card")).to_have_count(0)
    assert api(visit, "GET", f"/v1/media/{ids['green-leaf.jpg']}").status_code == 404
    filters.get_by_label("Search").fill("")
    expect(page.locator("#grid .card")).to_have_count(2)
