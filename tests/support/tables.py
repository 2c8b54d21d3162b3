"""Build DynamoDB tables from template.yaml, the one schema definition (dev, test and prod agree)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "template.yaml"
STACK_NAME = "medialib"
# What the pseudo parameters resolve to in tests and the local stack (moto's default account).
PSEUDO_PARAMETERS = {
    "AWS::StackName": STACK_NAME,
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
}


class _Tagged:
    """An unresolved CloudFormation intrinsic (``!Ref``, ``!Sub``, ``!GetAtt`` …)."""

    def __init__(self, tag: str, value: Any):
        self.tag = tag
        self.value = value

    def __repr__(self) -> str:
        return f"{self.tag} {self.value!r}"


class CloudFormationLoader(yaml.SafeLoader):
    """A SafeLoader that keeps CloudFormation's short-form tags instead of rejecting them."""


def _construct_tagged(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> _Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return _Tagged("!" + tag_suffix, value)


CloudFormationLoader.add_multi_constructor("!", _construct_tagged)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


def _resolve_name(value: Any) -> str:
    """A literal name or ``!Sub`` with pseudo parameters (``${AWS::StackName}-media``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, _Tagged) and value.tag == "!Sub" and isinstance(value.value, str):
        text = value.value
        for name, replacement in PSEUDO_PARAMETERS.items():
            text = text.replace("${" + name + "}", replacement)
        if "${" not in text:
            return text
    raise ValueError(f"cannot resolve table name {value!r}")


def table_definitions(template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``{logical id: create_table kwargs}`` for every AWS::DynamoDB::Table in the template."""
    template = template or load_template()
    resources = template["Resources"]
    definitions: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        kwargs: dict[str, Any] = {
            "TableName": _resolve_name(props.get("TableName", f"{STACK_NAME}-{logical_id}")),
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        throughput = props.get("ProvisionedThroughput")
        if throughput:
            kwargs["ProvisionedThroughput"] = throughput
        indexes = []
        for index in props.get("GlobalSecondaryIndexes", []):
            index_kwargs = {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
            if "ProvisionedThroughput" in index:
                index_kwargs["ProvisionedThroughput"] = index["ProvisionedThroughput"]
            indexes.append(index_kwargs)
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        if props.get("LocalSecondaryIndexes"):
            kwargs["LocalSecondaryIndexes"] = props["LocalSecondaryIndexes"]
        definitions[logical_id] = kwargs
    return definitions


def create_tables_from_template(client: Any, names: Iterable[str] | None = None) -> list[str]:
    """Create the template's tables with a boto3 DynamoDB ``client``; returns their names.

    ``names`` narrows to some tables, by logical id (``ApiKeysTable``) or table name
    (``medialib-api-keys``). TTL specifications are applied too.
    """
    wanted = set(names) if names is not None else None
    created = []
    template = load_template()
    for logical_id, kwargs in table_definitions(template).items():
        if wanted is not None and logical_id not in wanted and kwargs["TableName"] not in wanted:
            continue
        client.create_table(**kwargs)
        ttl = template["Resources"][logical_id]["Properties"].get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            client.update_time_to_live(
                TableName=kwargs["TableName"],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        created.append(kwargs["TableName"])
    return created
