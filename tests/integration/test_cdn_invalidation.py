"""Deleting an item makes CloudFront forget its files: the exact paths its URLs name are
invalidated once the files left the bucket, and an invalidation CloudFront refuses leaves the
purge for the sweeper, which tries again (on moto's CloudFront)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import pytest
import sweeper

from medialib.adapters import media_store
from medialib.settings import get_settings
from tests.support.api import CONTEXT, make_item, media
from tests.support.aws import mocked_aws
from tests.support.events import load_event


@pytest.fixture(autouse=True)
def aws():
    with mocked_aws():
        yield


@pytest.fixture
def distribution_id(monkeypatch) -> Iterator[str]:
    origin = {
        "Id": "media",
        "DomainName": "media.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": "invalidation-test",
        "Comment": "",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "media", "ViewerProtocolPolicy": "redirect-to-https"},
    }
    created = boto3.client("cloudfront").create_distribution(DistributionConfig=config)["Distribution"]["Id"]
    use_distribution(monkeypatch, created)
    yield created
    get_settings.cache_clear()  # read again once the environment is restored


def use_distribution(monkeypatch, distribution_id: str) -> None:
    monkeypatch.setenv("MEDIA_DISTRIBUTION_ID", distribution_id)
    get_settings.cache_clear()


def invalidated_paths(distribution_id: str) -> list[set[str]]:
    cloudfront = boto3.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get(
        "Items", []
    )
    return [
        set(
            cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"][
                "InvalidationBatch"
            ]["Paths"]["Items"]
        )
        for item in listed
    ]


def test_deleting_an_item_invalidates_the_paths_of_its_urls(distribution_id):
    # Given a ready item with variants
    item = make_item()
    urls = [item["url"], *(variant["url"] for variant in item["variants"])]
    assert len(urls) > 1

    # When it is deleted
    assert media("delete-media", media_id=item["id"])[0] == 204

    # Then one invalidation names exactly the paths of its URLs
    assert invalidated_paths(distribution_id) == [{urlsplit(url).path for url in urls}]


def test_without_a_distribution_nothing_is_invalidated(distribution_id, monkeypatch):
    use_distribution(monkeypatch, "")
    item = make_item()

    assert media("delete-media", media_id=item["id"])[0] == 204

    assert invalidated_paths(distribution_id) == []
    assert list(media_store.due_purges("9999")) == []


def test_a_refused_invalidation_leaves_the_purge_to_the_sweeper(distribution_id, monkeypatch):
    # Given CloudFront refuses the invalidation (an unknown distribution, as moto answers a throttle too)
    use_distribution(monkeypatch, "ENOSUCHDIST")
    item = make_item()

    # When the item is deleted
    assert media("delete-media", media_id=item["id"])[0] == 204

    # Then the item is gone but its purge waits for the sweeper
    assert media("get-media", media_id=item["id"])[0] == 404
    assert [purge.media_id for purge in media_store.due_purges("9999")] == [item["id"]]

    # And the sweeper invalidates once CloudFront accepts it, and finishes the purge
    use_distribution(monkeypatch, distribution_id)
    report = sweeper.lambda_handler(load_event("sweeper-scheduled"), CONTEXT)
    assert report["purged"] == 1, report
    assert len(invalidated_paths(distribution_id)) == 1
    assert list(media_store.due_purges("9999")) == []
