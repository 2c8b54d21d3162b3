"""The base of every pydantic model in the project."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and serializer are built at its first use, not when its
    class is defined: a function builds only the models its requests touch, and a cold start
    none (bench/bench_cold_start.py)."""

    model_config = ConfigDict(defer_build=True)
