"""The CDN in front of the bucket (CloudFront): forgetting files that left storage.

Originals and variants are cached at the edge for as long as the managed caching policy allows
(a day by default), so a deleted item's URLs would keep working from the cache; the service
invalidates the exact paths it deleted instead. Without a distribution (the local stack, the
tests) there is no cache and nothing to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from medialib.domain.errors import Unavailable
from medialib.settings import get_settings


@lru_cache(maxsize=1)
def _client() -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=10)
    return boto3.client("cloudfront", config=config)


def invalidate(keys: Iterable[str]) -> None:
    """Make the edge forget these storage keys; Unavailable if CloudFront refuses (the caller
    keeps its purge record, so the sweeper tries again)."""
    distribution_id = get_settings().media_distribution_id
    paths = sorted({"/" + quote(key, safe="/") for key in keys})
    if not distribution_id or not paths:
        return
    batch = {"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": uuid.uuid4().hex}
    try:
        _client().create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
    except (ClientError, BotoCoreError) as error:
        raise Unavailable("The CDN did not accept the invalidation; retry") from error
