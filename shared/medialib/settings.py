"""Typed settings, read once from the environment at cold start.

Nothing else in the project reads ``os.environ``; the names here are the ones ``template.yaml``
declares in ``Globals.Function.Environment``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

MB = 1024 * 1024


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    media_table: str = "medialib-media"
    tenants_table: str = "medialib-tenants"
    keys_table: str = "medialib-api-keys"
    idempotency_table: str = "medialib-idempotency"
    media_bucket: str = "medialib-media-123456789012-us-east-1"
    # Where originals and variants are delivered from (CloudFront in AWS, the emulator locally).
    media_base_url: str = "http://127.0.0.1:5000/medialib-media-123456789012-us-east-1"
    cursor_signing_key: str = Field(default="local-development-cursor-key", min_length=16)
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    max_image_bytes: int = 25 * MB
    max_video_bytes: int = 1024 * MB
    max_document_bytes: int = 50 * MB
    max_model_bytes: int = 15 * MB
    max_image_pixels: int = 50_000_000
    max_image_frames: int = 1000

    def max_bytes_for(self, kind: str) -> int:
        return {
            "image": self.max_image_bytes,
            "video": self.max_video_bytes,
            "document": self.max_document_bytes,
            "model": self.max_model_bytes,
        }[kind]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Validate the environment once; a bad value fails the cold start loudly."""
    values = {name: os.environ[name.upper()] for name in Settings.model_fields if name.upper() in os.environ}
    return Settings.model_validate(values)
