"""The local stand-in for the media CloudFront distribution, on a port of its own.

``GET /<key>`` serves the bucket's object ``<key>`` from the emulator, as the distribution
serves it from S3 through its origin access control: the object's stored ``Content-Type``,
``Content-Disposition`` and ``Cache-Control``, its ``ETag``, ``Last-Modified`` and
``Content-Length``, conditional and range requests, and the headers of the distribution's
response-headers policy read from ``template.yaml`` (:mod:`devstack.delivery_policy`).
Like the distribution's behaviour it allows GET and HEAD only. There is no cache, so a deleted
object is gone at once (on AWS the service invalidates its paths).

One difference, on purpose: a missing key is a 404 here, where S3 answers CloudFront's signed
request with 403 (the distribution may not list the bucket, so it cannot tell missing from
forbidden).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import ClientError
from werkzeug.wrappers import Request, Response

from devstack.delivery_policy import ResponseHeadersPolicy

_LOG = logging.getLogger("devstack.delivery")
_ALLOWED_METHODS = ("GET", "HEAD")
_STORED_HEADERS = {  # what S3 returns of an object's own metadata → the response header
    "ContentType": "Content-Type",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentLanguage": "Content-Language",
    "CacheControl": "Cache-Control",
}
_MISSING = ("NoSuchKey", "404", "NotFound")


class LocalDelivery:
    """The WSGI application: the bucket's objects under the policy's headers."""

    def __init__(self, s3: Any, bucket: str, policy: ResponseHeadersPolicy):
        self._s3, self._bucket, self._policy = s3, bucket, policy

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._serve(request)
        for name in self._policy.removed:
            response.headers.pop(name, None)
        response.headers.update(self._policy.headers)
        response.headers.update(self._policy.cors_headers(request.headers.get("Origin")))
        _LOG.info("%s %s %d", request.method, request.path, response.status_code)
        return response(environ, start_response)

    def _serve(self, request: Request) -> Response:
        if request.method not in _ALLOWED_METHODS:  # CloudFront's answer to a method the behaviour refuses
            return _error(403, "MethodNotAllowed", "This distribution allows GET and HEAD only")
        raw_path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.path
        key = unquote(raw_path.split("?", 1)[0].lstrip("/"))
        if not key:
            return _error(404, "NoSuchKey", "The specified key does not exist.")
        try:
            stored = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return _error(404, "NoSuchKey", "The specified key does not exist.")
            raise
        body = stored["Body"].read()
        headers = {header: stored[field] for field, header in _STORED_HEADERS.items() if stored.get(field)}
        response = Response(body, status=200, headers=headers)
        response.headers["ETag"] = stored["ETag"]
        response.last_modified = stored["LastModified"]
        # Range and conditional requests (206, 304, 416) on the whole object, as S3 answers them.
        response.make_conditional(request, accept_ranges=True, complete_length=len(body))
        del response.headers["Date"]  # the server adds its own
        return response


def _error(status: int, code: str, message: str) -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    )
    return Response(body, status=status, content_type="application/xml")
