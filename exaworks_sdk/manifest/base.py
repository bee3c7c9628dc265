"""What every hand-written manifest file's model shares: strict parsing and the slug and reason types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
Reason = Annotated[str, Field(min_length=10)]


class Strict(BaseModel):
    """Unknown keys are errors in hand-written files: a typo must not pass silently.

    Validators are built when a model first validates, not when its class is defined: a manifest
    read back from the harness's cache (exaworks_sdk/manifest/cache.py) never needs them.
    packaging is imported inside the methods that use it for the same reason."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)
