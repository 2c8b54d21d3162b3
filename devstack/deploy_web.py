"""Put the media browser (``web/``) on a deployed stack: ``make deploy-web [STACK=medialib]``.

The files go under ``web/`` in the stack's media bucket, which its CloudFront distribution serves
at ``https://<cdn>/web/index.html`` (the template's ``web/*`` behaviour, with the page's own
security headers). ``config.json`` beside them names the API, which answers browsers from any
origin (the Api's CORS), as the bucket does for presigned POSTs. Only ``originals/`` trigger
processing, so these files never become media items.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import boto3

from devstack.web_files import CONTENT_TYPES, WEB_ROOT

PREFIX = "web/"


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def upload_web(s3: Any, bucket: str, api_url: str) -> list[str]:
    """Upload every page file and a config.json naming the API; the keys written, in order."""
    written = []
    for path in sorted(WEB_ROOT.rglob("*")):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            key = PREFIX + path.relative_to(WEB_ROOT).as_posix()
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=path.read_bytes(),
                ContentType=CONTENT_TYPES[path.suffix],
                CacheControl="no-cache",
            )
            written.append(key)
    config = json.dumps({"api": api_url.rstrip("/")}).encode()
    s3.put_object(
        Bucket=bucket,
        Key=PREFIX + "config.json",
        Body=config,
        ContentType=CONTENT_TYPES[".json"],
        CacheControl="no-cache",
    )
    written.append(PREFIX + "config.json")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.deploy_web", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default="medialib", help="the deployed stack's name (default medialib)")
    args = parser.parse_args(argv)
    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    written = upload_web(boto3.client("s3"), outputs["MediaBucketName"], outputs["ApiUrl"])
    print(f"uploaded {len(written)} files to s3://{outputs['MediaBucketName']}/{PREFIX}")
    print(f"Media browser: {outputs['MediaBrowserUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
