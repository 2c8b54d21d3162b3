"""What every pynamodb model here shares: the region and a connection for transactions."""

from __future__ import annotations

from functools import lru_cache

import botocore.session
from pynamodb.connection import Connection


@lru_cache(maxsize=1)
def aws_region() -> str:
    # botocore reads AWS_REGION / AWS_DEFAULT_REGION / the config file, as every AWS tool does.
    return botocore.session.get_session().get_config_variable("region") or "us-east-1"


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    return Connection(region=aws_region())
