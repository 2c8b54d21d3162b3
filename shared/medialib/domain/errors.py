"""The one error vocabulary. Each error knows its HTTP status and stable code; the API layer
maps them to problem+json in one place (``medialib.api.problems``)."""

from __future__ import annotations

from typing import Any


class MediaLibError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal Server Error"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra  # extra problem members, e.g. ``used_by`` or ``existing``


class ValidationFailed(MediaLibError):
    status, code, title = 400, "validation_error", "Bad Request"


class Unauthorized(MediaLibError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(MediaLibError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(MediaLibError):
    status, code, title = 404, "not_found", "Not Found"


class Conflict(MediaLibError):
    status, code, title = 409, "conflict", "Conflict"


class AlreadyExists(Conflict):
    code = "already_exists"


class UploadMissing(Conflict):
    code = "upload_missing"


class VersionConflict(Conflict):
    code = "version_conflict"


class InUse(Conflict):
    code = "in_use"


class FolderNotEmpty(Conflict):
    code = "folder_not_empty"


class Duplicate(Conflict):
    code = "duplicate"


class PreconditionFailed(MediaLibError):
    status, code, title = 412, "precondition_failed", "Precondition Failed"


class PayloadTooLarge(MediaLibError):
    status, code, title = 413, "payload_too_large", "Payload Too Large"


class UnsupportedMediaType(MediaLibError):
    status, code, title = 415, "unsupported_media_type", "Unsupported Media Type"


class Unavailable(MediaLibError):
    status, code, title = 503, "unavailable", "Service Unavailable"
