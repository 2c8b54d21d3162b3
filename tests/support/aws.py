"""An in-process AWS (moto) with the template's tables and the media bucket."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto import mock_aws

from medialib.settings import get_settings
from tests.support.tables import create_tables_from_template


@contextmanager
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        create_tables_from_template(boto3.client("dynamodb"))
        boto3.client("s3").create_bucket(Bucket=get_settings().media_bucket)
        yield
