"""The CloudFront response-headers policy of the template's media distribution, as headers.

The policy is found the way CloudFront finds it: the distribution's default cache behaviour
names it (``ResponseHeadersPolicyId: !Ref ...``). Changing the policy in ``template.yaml``
changes what the local delivery endpoint sends, so a browser receives locally what it receives
from CloudFront.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.cfn_yaml import TEMPLATE_PATH, read_template
from devstack.intrinsics import Resolver, logical_id_of


@dataclass(frozen=True)
class ResponseHeadersPolicy:
    """What CloudFront adds to (or removes from) every response of the behaviour."""

    headers: dict[str, str]  # security and custom headers, sent on every response
    cors_origins: tuple[str, ...]  # "*" allows every origin
    cors_allow_credentials: bool
    cors_expose_headers: tuple[str, ...]
    removed: tuple[str, ...]

    def cors_headers(self, origin: str | None) -> dict[str, str]:
        """CloudFront answers CORS headers only to a request that carries an allowed ``Origin``."""
        if origin is None:
            return {}
        if "*" in self.cors_origins:
            allowed = "*"
        elif origin in self.cors_origins:
            allowed = origin
        else:
            return {}
        headers = {"Access-Control-Allow-Origin": allowed}
        if self.cors_allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self.cors_expose_headers:
            headers["Access-Control-Expose-Headers"] = ", ".join(self.cors_expose_headers)
        return headers


def media_response_headers(path: Path = TEMPLATE_PATH) -> ResponseHeadersPolicy:
    """The policy the template's distribution applies to its default behaviour (none without one)."""
    raw = read_template(path)
    resolver = Resolver(raw)
    distributions = [
        resource
        for resource in raw.get("Resources", {}).values()
        if resource.get("Type") == "AWS::CloudFront::Distribution"
    ]
    if len(distributions) > 1:
        raise ValueError(f"expected one CloudFront distribution in the template, found {len(distributions)}")
    if not distributions:  # a template without a CDN: objects served as stored
        return policy_from_config({})
    config = distributions[0].get("Properties", {}).get("DistributionConfig", {})
    behaviour = config.get("DefaultCacheBehavior", {})
    reference = behaviour.get("ResponseHeadersPolicyId")
    if reference is None:
        return policy_from_config({})
    policy = raw["Resources"][logical_id_of(reference)]
    return policy_from_config(resolver.resolve(policy["Properties"]["ResponseHeadersPolicyConfig"]))


def policy_from_config(config: dict[str, Any]) -> ResponseHeadersPolicy:
    """``ResponseHeadersPolicyConfig`` (resolved) → the headers CloudFront sends for it."""
    headers: dict[str, str] = {}
    security = config.get("SecurityHeadersConfig", {})
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    if "ContentSecurityPolicy" in security:
        headers["Content-Security-Policy"] = security["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    if "FrameOptions" in security:
        headers["X-Frame-Options"] = security["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in security:
        headers["Referrer-Policy"] = security["ReferrerPolicy"]["ReferrerPolicy"]
    if "StrictTransportSecurity" in security:
        headers["Strict-Transport-Security"] = _hsts(security["StrictTransportSecurity"])
    if "XSSProtection" in security:
        headers["X-XSS-Protection"] = _xss_protection(security["XSSProtection"])
    for item in config.get("CustomHeadersConfig", {}).get("Items", []):
        headers[item["Header"]] = str(item["Value"])
    cors = config.get("CorsConfig", {})
    return ResponseHeadersPolicy(
        headers=headers,
        cors_origins=tuple(cors.get("AccessControlAllowOrigins", {}).get("Items", [])),
        cors_allow_credentials=_true(cors.get("AccessControlAllowCredentials", False)),
        cors_expose_headers=tuple(cors.get("AccessControlExposeHeaders", {}).get("Items", [])),
        removed=tuple(item["Header"] for item in config.get("RemoveHeadersConfig", {}).get("Items", [])),
    )


def _hsts(config: dict[str, Any]) -> str:
    value = f"max-age={int(config['AccessControlMaxAgeSec'])}"
    if _true(config.get("IncludeSubdomains", False)):
        value += "; includeSubDomains"
    if _true(config.get("Preload", False)):
        value += "; preload"
    return value


def _xss_protection(config: dict[str, Any]) -> str:
    if not _true(config["Protection"]):
        return "0"
    value = "1"
    if _true(config.get("ModeBlock", False)):
        value += "; mode=block"
    if config.get("ReportUri"):
        value += f"; report={config['ReportUri']}"
    return value


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
