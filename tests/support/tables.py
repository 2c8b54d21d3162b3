"""DynamoDB tables for tests, built from template.yaml (the one schema definition) with the same
loader and table builder as the local stack, so dev, test and prod agree."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from devstack.emulator import create_table
from devstack.template import LocalTemplate
from devstack.template import read_template as load_template

__all__ = ["create_tables_from_template", "load_template"]


def create_tables_from_template(client: Any, names: Iterable[str] | None = None) -> list[str]:
    """Create the template's tables with a boto3 DynamoDB ``client``; returns their names.

    ``names`` narrows to some tables, by logical id (``ApiKeysTable``) or table name
    (``medialib-api-keys``).
    """
    wanted = set(names) if names is not None else None
    created = []
    for table in LocalTemplate.load().tables.values():
        if wanted is None or table.logical_id in wanted or table.name in wanted:
            create_table(client, table)
            created.append(table.name)
    return created
