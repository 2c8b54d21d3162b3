"""The account, region and stack name the local stack stands in for: every name and ARN it
makes is built from them, as CloudFormation would build them for stack ``medialib``."""

STACK_NAME = "medialib"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
