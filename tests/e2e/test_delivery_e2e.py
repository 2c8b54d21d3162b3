"""End to end: item URLs point at the local delivery endpoint (the stack's CloudFront), which
serves originals and variants with the template's response headers, SVG as an attachment, and
stops serving an item's files once it is deleted."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.client import auth, photo, uploaded, wait_until_settled

pytestmark = pytest.mark.e2e

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20"/></svg>'


def test_item_urls_serve_the_files_until_the_item_is_deleted(stack):
    # Given a processed photo
    item = uploaded(stack, stack.demo_key, photo(800, 600))
    assert item["status"] == "ready", item
    urls = [item["url"], *(variant["url"] for variant in item["variants"])]
    assert len(urls) > 1
    # on the delivery endpoint the stack printed (its CloudFront), not the emulator
    media_url = stack.output.wait_for(r"Media\s+(http://127\.0\.0\.1:\d+)", 0).group(1)
    assert all(url.startswith(f"{media_url}/") for url in urls), urls

    # Then every URL serves its file with the policy's headers
    for url in urls:
        response = requests.get(url, headers={"Origin": "https://shop.test"}, timeout=10)
        assert response.status_code == 200, url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    original = requests.get(item["url"], timeout=10)
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.headers["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert requests.get(item["variants"][0]["url"], timeout=10).headers["Content-Type"] == "image/webp"

    # When the item is deleted
    deleted = requests.delete(
        f"{stack.api_url}/v1/media/{item['id']}", headers=auth(stack.demo_key), timeout=30
    )
    assert deleted.status_code == 204

    # Then none of its URLs works any more
    assert [requests.get(url, timeout=10).status_code for url in urls] == [404] * len(urls)


def test_an_svg_is_delivered_as_an_attachment(stack):
    response = requests.post(
        f"{stack.api_url}/v1/media",
        files=[("file", ("logo.svg", SVG, "image/svg+xml"))],
        headers=auth(stack.demo_key),
        timeout=60,
    )
    assert response.status_code == 201, response.text
    item = wait_until_settled(stack, stack.demo_key, response.json()["data"][0]["id"])
    assert item["status"] == "ready", item

    delivered = requests.get(item["url"], timeout=10)

    assert delivered.status_code == 200
    assert delivered.headers["Content-Type"] == "image/svg+xml"
    assert delivered.headers["Content-Disposition"] == "attachment; filename*=UTF-8''logo.svg"
    assert delivered.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in delivered.headers["Content-Security-Policy"]
