"""Who is calling: the tenant and scopes an API key resolved to."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCOPES = ("media:read", "media:write", "media:delete")
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    key_id: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
