"""CloudFormation's intrinsics (``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, conditions...) resolved as
they would be for stack ``medialib``, with the emulator's endpoints.

Values only AWS can know (a CloudFront domain, a secret, a function ARN) resolve to
:class:`Unresolved`; the local environment overrides each of them or refuses to start.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from devstack.local_account import ACCOUNT_ID, PARTITION, REGION, STACK_NAME

DEFAULT_AWS_URL = "http://127.0.0.1:5000"

_NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
}
_NO_VALUE = object()  # what ``!Ref AWS::NoValue`` resolves to: the key disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Unresolved:
    """A value only a real deployment knows."""

    expression: str


def logical_id_of(value: Any) -> str:
    """The logical id a ``!Ref X`` or ``!GetAtt X.Attr`` names."""
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    raise ValueError(f"expected !Ref or !GetAtt to a resource in the template, got {value!r}")


class Resolver:
    """Resolves intrinsics the way CloudFormation would for stack ``medialib``, with local endpoints."""

    def __init__(
        self,
        template: dict[str, Any],
        aws_url: str = DEFAULT_AWS_URL,
        parameters: dict[str, str] | None = None,
    ):
        self.resources: dict[str, Any] = template.get("Resources", {})
        self._conditions: dict[str, Any] = template.get("Conditions", {})
        self._mappings: dict[str, Any] = template.get("Mappings", {})
        self._aws_url = aws_url.rstrip("/")
        self._values: dict[str, Any] = {
            "AWS::StackName": STACK_NAME,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            "AWS::NoValue": _NO_VALUE,
        }
        for name, parameter in template.get("Parameters", {}).items():
            default = parameter.get("Default")
            # CloudFormation hands every parameter over as a string, Number ones included.
            self._values[name] = Unresolved(f"Ref {name}") if default is None else str(default)
        for name, value in (parameters or {}).items():  # as `sam deploy --parameter-overrides`
            if name not in template.get("Parameters", {}):
                raise ValueError(f"the template has no parameter {name!r} to override")
            self._values[name] = str(value)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not _NO_VALUE]
        if isinstance(value, str) and "{{resolve:" in value:  # a dynamic reference: a secret or a parameter
            return Unresolved(value)
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key.startswith("Fn::"):
                return self._function(key[4:], argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name in self._values:
            return self._values[name]
        kind = self._resource(name)["Type"]
        if kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket"):
            return self.physical_name(name)
        if kind == "AWS::SQS::Queue":
            return f"{self._aws_url}/{ACCOUNT_ID}/{self.physical_name(name)}"
        return Unresolved(f"Ref {name}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        kind = self._resource(logical_id)["Type"]
        if kind not in _NAME_PROPERTY:
            return Unresolved(f"GetAtt {logical_id}.{attribute}")
        name = self.physical_name(logical_id)
        attributes = {
            "AWS::SQS::Queue": {
                "Arn": f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT_ID}:{name}",
                "QueueName": name,
                "QueueUrl": f"{self._aws_url}/{ACCOUNT_ID}/{name}",
            },
            "AWS::S3::Bucket": {
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
            },
            "AWS::DynamoDB::Table": {"Arn": f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"},
        }[kind]
        return attributes.get(attribute, Unresolved(f"GetAtt {logical_id}.{attribute}"))

    def physical_name(self, logical_id: str) -> str:
        resource = self._resource(logical_id)
        explicit = resource.get("Properties", {}).get(_NAME_PROPERTY[resource["Type"]])
        if explicit is None:
            # CloudFormation would add a random suffix; locally the name stays predictable.
            name = f"{STACK_NAME}-{logical_id}"
            if resource["Type"] == "AWS::S3::Bucket":
                return name.lower()
            fifo = resource.get("Properties", {}).get("FifoQueue") in (True, "true")
            return f"{name}.fifo" if fifo else name
        name = self.resolve(explicit)
        if not isinstance(name, str):
            raise ValueError(f"{logical_id}: its name does not resolve locally: {explicit!r}")
        return name

    def _resource(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.resources:
            raise KeyError(f"template refers to {logical_id!r}, which is neither a parameter nor a resource")
        return self.resources[logical_id]

    def _function(self, name: str, argument: Any) -> Any:
        if name == "GetAtt":
            logical_id, attribute = argument
            return self.get_att(logical_id, self.resolve(attribute))
        if name == "Sub":
            return self._sub(argument)
        if name == "If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name in ("Equals", "And", "Or", "Not"):
            return self._truth({f"Fn::{name}": argument})
        if name == "FindInMap":
            mapping, top, second = self.resolve(argument)
            return self._mappings[mapping][top][second]
        arguments = self.resolve(argument)
        if any(isinstance(item, Unresolved) for item in _flatten(arguments)):
            return Unresolved(f"Fn::{name} {argument!r}")
        if name == "Join":
            return arguments[0].join(str(item) for item in arguments[1])
        if name == "Select":
            return arguments[1][int(arguments[0])]
        if name == "Split":
            return arguments[1].split(arguments[0])
        if name == "Base64":
            return base64.b64encode(str(arguments).encode()).decode()
        if name == "GetAZs":
            return [f"{REGION}{zone}" for zone in "abcdef"]
        return Unresolved(f"Fn::{name} {argument!r}")

    def _sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        if "{{resolve:" in text:  # a dynamic reference: only CloudFormation can read the secret
            return Unresolved(f"Fn::Sub {text}")
        variables = self.resolve(variables)
        missing: list[str] = []

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name:
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            if isinstance(value, Unresolved):
                missing.append(name)
                return ""
            return str(value)

        result = _SUB_VARIABLE.sub(substitute, text)
        return Unresolved(f"Fn::Sub {text}") if missing else result

    def condition(self, name: str) -> bool:
        return self._truth(self._conditions[name])

    def _truth(self, expression: Any) -> bool:
        if isinstance(expression, bool):
            return expression
        ((key, argument),) = expression.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise ValueError(f"not a condition: {expression!r}")


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _flatten(item)]
    return [value]
