"""The README's screenshots of the media browser, made again with ``make screenshots``.

Starts a local stack of its own (free ports), uploads a few generated pictures and a PDF through
the page's file picker, and saves docs/media-browser-grid.png, docs/media-browser-panel.png and
docs/media-browser-narrow.png (375 px wide).
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

import requests
from PIL import Image, ImageDraw, ImageOps
from playwright.sync_api import Page, expect, sync_playwright

from devstack.stack import LocalStack
from tests.browser.chromium import launch

DOCS = Path(__file__).resolve().parents[2] / "docs"
# name → (dark, light) colours of a generated picture
PICTURES = {
    "summer-dress.jpg": ("#7a1f3d", "#f6c1a6"),
    "leather-boots.jpg": ("#3b2314", "#d9a66b"),
    "storefront-night.jpg": ("#0d1b3d", "#f2c14e"),
    "linen-shirt.jpg": ("#4d5a4a", "#eef0e6"),
    "company-logo.png": ("#123c69", "#ffffff"),
    "sea-glass-earrings.jpg": ("#0f5257", "#b8e0d2"),
}


def picture(path: Path, dark: str, light: str, index: int) -> None:
    """A soft gradient with a few shapes: enough to tell the thumbnails apart."""
    size = (1600, 1200) if index % 2 else (1200, 1500)
    shade = Image.radial_gradient("L").resize(size)
    image = ImageOps.colorize(shade, black=light, white=dark)
    draw = ImageDraw.Draw(image)
    width, height = size
    for step in range(3):
        x, y, r = width * (0.25 + 0.25 * step), height * (0.3 + 0.15 * ((index + step) % 3)), width * 0.08
        draw.ellipse((x - r, y - r, x + r, y + r), fill=light if step % 2 else dark)
    image.save(path, quality=88)


def lookbook(path: Path) -> None:
    pages = [Image.new("RGB", (595, 842), colour) for colour in ("#f6c1a6", "#b8e0d2", "#d9a66b")]
    for number, page in enumerate(pages, start=1):
        ImageDraw.Draw(page).rectangle((60, 60, 535, 420), fill="#123c69" if number == 1 else "#7a1f3d")
    pages[0].save(path, save_all=True, append_images=pages[1:])


def upload(page: Page, folder: Path) -> list[str]:
    paths = []
    for index, (name, (dark, light)) in enumerate(PICTURES.items()):
        paths.append(folder / name)
        picture(paths[-1], dark, light, index)
    paths.append(folder / "lookbook-2026.pdf")
    lookbook(paths[-1])
    page.get_by_label("Upload files").set_input_files([str(path) for path in paths])
    for path in paths:
        card = page.locator("#grid .card", has_text=path.name)
        expect(card).to_have_attribute("data-status", "ready", timeout=120_000)
        expect(card.locator(".thumb")).to_have_class("thumb loaded")
    return [path.name for path in paths]


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):  # the functions' JSON logs
        shoot()
    for name in ("grid", "panel", "narrow"):
        print(DOCS / f"media-browser-{name}.png")
    return 0


def shoot() -> None:
    with LocalStack() as stack, sync_playwright() as playwright, tempfile.TemporaryDirectory() as folder:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 820})
        page.goto(f"{stack.api_url}/")
        page.get_by_label("API key").fill(stack.demo_key or "")
        page.get_by_role("button", name="Sign in").click()
        upload(page, Path(folder))

        dress = page.locator("#grid .card", has_text="summer-dress.jpg")
        media_id = dress.get_attribute("data-media-id")
        headers = {"Authorization": f"Bearer {stack.demo_key}"}
        requests.put(
            f"{stack.api_url}/v1/entities/product/p_1042/media",
            json={"media_ids": [media_id]},
            headers=headers,
            timeout=30,
        ).raise_for_status()
        page.reload()
        page.get_by_role("search").get_by_label("Sort").select_option("created_at")
        expect(page.locator("#grid .card")).to_have_count(len(PICTURES) + 1)
        expect(page.locator("#grid .thumb.loaded")).to_have_count(len(PICTURES) + 1)
        page.screenshot(path=DOCS / "media-browser-grid.png")

        page.locator("#grid .card", has_text="summer-dress.jpg").click()
        panel = page.get_by_role("dialog")
        panel.get_by_label("Alt text").fill("Red summer dress on a linen background")
        panel.get_by_label("Tags (comma-separated)").fill("Summer, Dresses")
        panel.get_by_role("button", name="Save").click()
        expect(panel.locator(".notice")).to_have_text("Saved.")
        expect(panel.locator(".preview-image")).to_have_js_property("complete", True)
        panel.evaluate("dialog => dialog.scrollTo(0, 0)")
        page.screenshot(path=DOCS / "media-browser-panel.png")
        panel.get_by_role("button", name="Close").click()

        page.set_viewport_size({"width": 375, "height": 812})
        page.screenshot(path=DOCS / "media-browser-narrow.png")
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
