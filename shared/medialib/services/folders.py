"""Folders: a tree of paths per tenant. ``/`` always exists and cannot be deleted."""

from __future__ import annotations

from medialib.adapters import catalogue_store
from medialib.domain.errors import ValidationFailed
from medialib.domain.media import utc_now


def _ancestors(path: str) -> list[str]:
    segments = path.strip("/").split("/")
    return ["/" + "/".join(segments[:depth]) for depth in range(1, len(segments))]


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def list_folders(tenant_id: str) -> list[str]:
    return catalogue_store.list_folders(tenant_id)


def create_folder(tenant_id: str, path: str) -> str:
    if path == "/":
        raise ValidationFailed("The root folder always exists", errors=[{"field": "path", "message": "is /"}])
    catalogue_store.create_folder(tenant_id, path, _ancestors(path), utc_now())
    return path


def delete_folder(tenant_id: str, path: str) -> None:
    if path == "/":
        raise ValidationFailed(
            "The root folder cannot be deleted", errors=[{"field": "path", "message": "is /"}]
        )
    catalogue_store.delete_folder(tenant_id, path, _parent(path))
