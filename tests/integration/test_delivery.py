"""The local delivery endpoint (devstack/delivery.py) against the emulator's bucket: what a browser
receives for an object is what the template's CloudFront response-headers policy sends, with the
object's stored type and disposition. The expected headers are read from template.yaml here, so
a policy changed in the template and not locally (or the reverse) fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from devstack.cfn_yaml import TEMPLATE_PATH, read_template
from devstack.delivery import LocalDelivery
from devstack.delivery_policy import media_response_headers
from devstack.emulator import Emulator
from devstack.gateway import GatewayServer
from medialib.domain.uploads import content_disposition

BUCKET = "delivery-test"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
# Every header a response-headers policy can add; any of them the template does not name must be absent.
POLICY_HEADERS = {
    "x-content-type-options",
    "content-security-policy",
    "x-frame-options",
    "referrer-policy",
    "strict-transport-security",
    "x-xss-protection",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
}


def template_policy(path: Path = TEMPLATE_PATH) -> dict:
    """The ResponseHeadersPolicyConfig the distribution names, as written in the template."""
    resources = read_template(path)["Resources"]
    (distribution,) = [r for r in resources.values() if r["Type"] == "AWS::CloudFront::Distribution"]
    reference = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"][
        "ResponseHeadersPolicyId"
    ]
    return resources[reference["Ref"]]["Properties"]["ResponseHeadersPolicyConfig"]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emulator = Emulator(port=0)
    emulator.start()
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(
        Bucket=BUCKET,
        Key="originals/acme/med_svg",
        Body=SVG,
        ContentType="image/svg+xml",
        ContentDisposition=content_disposition("logo é.svg", "image/svg+xml"),
    )
    s3.put_object(
        Bucket=BUCKET,
        Key="originals/acme/med_jpg",
        Body=b"0123456789",
        ContentType="image/jpeg",
        ContentDisposition=content_disposition("photo.jpg", "image/jpeg"),
    )
    yield emulator
    emulator.stop()


def serve(emulator: Emulator, template: Path = TEMPLATE_PATH) -> GatewayServer:
    app = LocalDelivery(emulator.client("s3"), BUCKET, media_response_headers(template))
    server = GatewayServer(app, port=0)
    server.start()
    return server


@pytest.fixture
def delivery(emulator: Emulator) -> Iterator[str]:
    server = serve(emulator)
    yield server.url
    server.stop()


def test_responses_carry_exactly_the_headers_of_the_templates_policy(delivery):
    # Given the policy as the template writes it
    config = template_policy()
    security, cors = config["SecurityHeadersConfig"], config["CorsConfig"]
    assert security["ContentTypeOptions"]["Override"] is True

    # When a browser on another origin fetches an original
    response = requests.get(
        f"{delivery}/originals/acme/med_jpg", headers={"Origin": "https://shop.test"}, timeout=10
    )

    # Then it gets the policy's headers, exactly
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (
        response.headers["Content-Security-Policy"]
        == security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    )
    assert cors["AccessControlAllowOrigins"]["Items"] == ["*"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    expected = {"x-content-type-options", "content-security-policy", "access-control-allow-origin"}
    if cors["AccessControlAllowCredentials"]:
        expected.add("access-control-allow-credentials")
    assert {name.lower() for name in response.headers} & POLICY_HEADERS == expected
    # And a request without Origin is no CORS request: no CORS headers, as from CloudFront
    plain = requests.get(f"{delivery}/originals/acme/med_jpg", timeout=10)
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert plain.headers["Content-Security-Policy"] == response.headers["Content-Security-Policy"]


def test_a_policy_changed_in_the_template_changes_the_local_responses(emulator, tmp_path):
    # Given a template whose policy has another CSP, frame options and a custom header
    raw = read_template(TEMPLATE_PATH)
    policy_id = next(
        k for k, r in raw["Resources"].items() if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    )
    config = raw["Resources"][policy_id]["Properties"]["ResponseHeadersPolicyConfig"]
    config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"] = "default-src 'none'"
    config["SecurityHeadersConfig"]["FrameOptions"] = {"FrameOption": "DENY", "Override": True}
    config["CustomHeadersConfig"] = {"Items": [{"Header": "X-Served-By", "Value": "cdn", "Override": True}]}
    changed = tmp_path / "template.yaml"
    changed.write_text(yaml.safe_dump(raw))

    # When the endpoint is built from it
    server = serve(emulator, changed)
    try:
        response = requests.get(f"{server.url}/originals/acme/med_jpg", timeout=10)
    finally:
        server.stop()

    # Then the responses follow it
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Served-By"] == "cdn"


def test_objects_keep_their_stored_type_and_disposition_and_svg_is_an_attachment(delivery):
    svg = requests.get(f"{delivery}/originals/acme/med_svg", timeout=10)
    jpg = requests.get(f"{delivery}/originals/acme/med_jpg", timeout=10)

    assert (svg.status_code, svg.content) == (200, SVG)
    assert svg.headers["Content-Type"] == "image/svg+xml"
    assert svg.headers["Content-Disposition"] == "attachment; filename*=UTF-8''logo%20%C3%A9.svg"
    assert jpg.headers["Content-Type"] == "image/jpeg"
    assert jpg.headers["Content-Disposition"] == "inline; filename*=UTF-8''photo.jpg"
    for response in (svg, jpg):
        assert response.headers["ETag"].startswith('"') and response.headers["Last-Modified"]
        assert int(response.headers["Content-Length"]) == len(response.content)


def test_ranges_conditional_requests_and_head(delivery):
    url = f"{delivery}/originals/acme/med_jpg"
    etag = requests.head(url, timeout=10).headers["ETag"]

    part = requests.get(url, headers={"Range": "bytes=2-5"}, timeout=10)
    assert (part.status_code, part.content, part.headers["Content-Range"]) == (206, b"2345", "bytes 2-5/10")
    assert requests.get(url, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    head = requests.head(url, timeout=10)
    assert (head.status_code, head.content, head.headers["Content-Length"]) == (200, b"", "10")
    assert head.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/originals/acme/med_gone", "/", "/variants/acme/med_jpg/x/150.webp"])
def test_a_missing_key_is_a_404_with_the_policys_headers(delivery, path):
    response = requests.get(f"{delivery}{path}", timeout=10)

    assert response.status_code == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"NoSuchKey" in response.content


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head_are_allowed_and_nothing_changes(delivery, emulator, method):
    response = requests.request(method, f"{delivery}/originals/acme/med_jpg", data=b"x", timeout=10)

    assert response.status_code == 403
    stored = emulator.client("s3").get_object(Bucket=BUCKET, Key="originals/acme/med_jpg")["Body"].read()
    assert stored == b"0123456789"
