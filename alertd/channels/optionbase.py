"""The base of every channel type's options model (pydantic), apart so that a calendar of types without options
(console) loads no pydantic model code at all."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Options"]


class Options(BaseModel):
    """Base of every channel's options model: unknown keys are errors."""

    # Each model's validator is built on its first use, not at import: a calendar pays for the types it uses.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
