"""The media browser's harder paths: per-file upload errors, a stale edit (412), deleting an item
in use, the focal point, folders, more pages, the keyboard and a 375 px screen."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import Visit
from tests.browser.test_media_browser import api, card, photos, upload_ready

pytestmark = pytest.mark.e2e


def test_each_file_shows_its_own_error(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    [photo] = photos(tmp_path, {"tomato.jpg": (220, 60, 40)})
    ids = upload_ready(visit, [photo])
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as file:
        file.truncate(30_000_000)  # beyond the 25 MB image limit, refused before any byte is sent
    again = tmp_path / "again" / "tomato.jpg"
    again.parent.mkdir()
    again.write_bytes(photo.read_bytes())

    page.get_by_label("Upload files").set_input_files([str(notes), str(huge), str(again)])
    rows = page.locator("#uploads .upload")
    # The API's own words, per file.
    expected = {"notes.txt": "text/plain is not accepted", "huge.jpg": "may be at most 26214400 bytes"}
    for name, words in expected.items():
        row = rows.and_(page.locator(f'[data-filename="{name}"]'))
        expect(row).to_have_attribute("data-state", "failed")
        expect(row.get_by_role("alert")).to_contain_text(f"{name}: ")
        expect(row.get_by_role("alert")).to_contain_text(words)
    duplicate = rows.and_(page.locator('[data-filename="tomato.jpg"][data-state="failed"]'))
    expect(duplicate.get_by_role("alert")).to_contain_text("already in the library")
    duplicate.get_by_role("link", name="See the existing item").click()
    expect(page.get_by_role("dialog").get_by_text(ids["tomato.jpg"])).to_be_visible()
    expect(page.locator("#grid .card")).to_have_count(1)


def test_a_stale_edit_says_so_and_saves_nothing(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    ids = upload_ready(visit, photos(tmp_path, {"pear.jpg": (200, 200, 40)}))
    card(page, "pear.jpg").click()
    panel = page.get_by_role("dialog")
    expect(panel.get_by_label("Alt text")).to_be_visible()
    # Someone else edits it meanwhile.
    theirs = api(visit, "PATCH", f"/v1/media/{ids['pear.jpg']}", json={"title": "Their title"})
    assert theirs.status_code == 200
    panel.get_by_label("Alt text").fill("My alt")
    panel.get_by_role("button", name="Save").click()
    expect(panel.get_by_role("alert")).to_contain_text("Someone else changed this item")
    assert api(visit, "GET", f"/v1/media/{ids['pear.jpg']}").json()["data"]["alt"] is None
    panel.get_by_role("button", name="Reload").click()
    expect(panel.get_by_label("Title")).to_have_value("Their title")


def test_deleting_an_item_in_use_shows_where_and_asks_before_forcing(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    ids = upload_ready(visit, photos(tmp_path, {"mug.jpg": (90, 60, 30)}))
    media_id = ids["mug.jpg"]
    attached = api(visit, "PUT", "/v1/entities/product/p_42/media", json={"media_ids": [media_id]})
    assert attached.status_code == 200, attached.text
    card(page, "mug.jpg").click()
    panel = page.get_by_role("dialog")
    expect(panel.get_by_role("region", name="Used by")).to_contain_text("product p_42")
    panel.get_by_role("button", name="Delete").click()
    panel.get_by_role("button", name="Yes, delete").click()
    expect(panel.get_by_role("alert")).to_contain_text("still used by 1 entity")
    assert api(visit, "GET", f"/v1/media/{media_id}").status_code == 200
    panel.get_by_role("button", name="Detach everywhere and delete").click()
    expect(panel).to_be_hidden()
    expect(page.locator(f'#grid [data-media-id="{media_id}"]')).to_have_count(0)
    assert api(visit, "GET", f"/v1/media/{media_id}").status_code == 404


def test_the_focal_point_is_where_the_image_is_clicked(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    ids = upload_ready(visit, photos(tmp_path, {"plum.jpg": (90, 30, 90)}))
    card(page, "plum.jpg").click()
    image = page.get_by_role("dialog").locator(".preview-image")
    expect(image).to_be_visible()
    box = image.bounding_box()
    assert box is not None
    image.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.75})
    expect(page.get_by_role("dialog").locator(".notice")).to_have_text("Focal point set to 25 %, 75 %.")
    stored = api(visit, "GET", f"/v1/media/{ids['plum.jpg']}").json()["data"]
    assert stored["focal_point"] == {"x": 25, "y": 75}


def test_folders_are_created_and_only_empty_ones_deleted(visit: Visit) -> None:
    page = visit.page
    visit.sign_in()
    page.get_by_text("Folders", exact=True).click()
    page.get_by_label("New folder").fill("/products/summer")
    page.get_by_role("button", name="Create").click()
    expect(page.locator("#folder-message")).to_have_text("Folder /products/summer created.")
    page.get_by_role("button", name="Delete folder /products", exact=True).click()
    expect(page.locator("#folder-message")).to_have_class("notice error")
    page.get_by_role("button", name="Delete folder /products/summer").click()
    expect(page.locator("#folder-message")).to_have_text("Folder /products/summer deleted.")
    assert api(visit, "GET", "/v1/folders").json()["data"]["folders"] == ["/", "/products"]
    folder_filter = page.get_by_role("search").get_by_label("Folder")
    expect(folder_filter.locator("option")).to_have_text(["All", "/", "/products"])


def test_more_items_load_as_the_end_scrolls_into_view(visit: Visit) -> None:
    page = visit.page
    for batch in range(3):  # 30 items, straight through the API (small multipart uploads)
        files = []
        for index in range(10):
            body = io.BytesIO()
            Image.new("RGB", (8, 8), (batch * 80, index * 20, 100)).save(body, "PNG")
            files.append(("file", (f"tile-{batch}-{index}.png", body.getvalue(), "image/png")))
        created = api(visit, "POST", "/v1/media", files=files)
        assert created.status_code == 201, created.text
    visit.sign_in()
    expect(page.locator("#list-status")).to_contain_text("of 30 items")
    page.locator("#more").scroll_into_view_if_needed()
    expect(page.locator("#grid .card")).to_have_count(30)
    expect(page.locator("#more")).to_be_hidden()
    ids = page.locator("#grid .card").evaluate_all("cards => cards.map(c => c.dataset.mediaId)")
    assert len(set(ids)) == 30


def test_keyboard_and_a_375_px_screen(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    page.set_viewport_size({"width": 375, "height": 740})
    visit.sign_in()
    upload_ready(visit, photos(tmp_path, {"kiwi.jpg": (120, 160, 40)}))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card(page, "kiwi.jpg").locator("button").focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("dialog")
    expect(panel.get_by_label("Alt text")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert panel.evaluate("dialog => dialog.scrollWidth <= dialog.clientWidth")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(card(page, "kiwi.jpg").locator("button")).to_be_focused()  # back where the keyboard was


def test_files_dropped_on_the_page_are_uploaded(visit: Visit, tmp_path: Path) -> None:
    page = visit.page
    visit.sign_in()
    [photo] = photos(tmp_path, {"dropped-fig.png": (110, 40, 90)})
    # What the browser hands the page when a file is dropped from the desktop.
    dropped = page.evaluate_handle(
        """([name, bytes]) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], name, {type: "image/png"}));
            return transfer;
        }""",
        [photo.name, list(photo.read_bytes())],
    )
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": dropped})
    expect(card(page, "dropped-fig.png")).to_have_attribute("data-status", "ready")
    expect(card(page, "dropped-fig.png").locator(".thumb")).to_have_class("thumb loaded")
