"""What every pynamodb model here shares: the region and a connection for transactions.

The endpoint is left to botocore, which honours ``AWS_ENDPOINT_URL_DYNAMODB`` /
``AWS_ENDPOINT_URL`` (the local stack) or picks the real regional endpoint.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import botocore.session
from botocore.exceptions import BotoCoreError
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError

from medialib.domain.errors import Unavailable, VersionConflict

DEFAULT_REGION = "us-east-1"


@lru_cache(maxsize=1)
def aws_region() -> str:
    """The region the standard AWS configuration names, else us-east-1.

    botocore resolves ``AWS_DEFAULT_REGION`` and the profile's region but ignores
    ``AWS_REGION``, which Lambda and the other SDKs honour; that one is the fallback (AWS
    configuration, not an application setting, so it is read here rather than in settings).
    """
    region = botocore.session.get_session().get_config_variable("region")
    return region or os.environ.get("AWS_REGION") or DEFAULT_REGION


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    return Connection(region=aws_region())


@contextmanager
def database_errors() -> Iterator[None]:
    """SDK failures (throttling, timeouts, an endpoint out of reach) as the domain's
    ``Unavailable``. A missing item and a cancelled transaction pass through: only the caller
    knows what they mean."""
    try:
        yield
    except (DoesNotExist, TransactWriteError):
        raise
    except (PynamoDBException, BotoCoreError) as error:
        raise Unavailable("The database is unavailable; retry") from error


def raise_unless_a_condition_failed(error: TransactWriteError) -> None:
    """Raise the domain error for a transaction cancelled by anything but one of its own
    conditions (those only the caller can explain): a concurrent transaction, retry; anything
    else, the database is unavailable."""
    codes = {reason.code for reason in (error.cancellation_reasons or []) if reason is not None}
    if "ConditionalCheckFailed" in codes:
        return
    if "TransactionConflict" in codes:
        raise VersionConflict("A concurrent change touched the same records; retry") from error
    raise Unavailable("The database did not accept the change; retry") from error
