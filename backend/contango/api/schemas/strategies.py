"""Request and response models of strategies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

EXAMPLE_CODE = '''def targets(bars, params):
    """Long one contract while the close is above its 50-bar average."""
    import numpy as np
    close = bars.close
    average = np.convolve(close[:, 0], np.ones(50) / 50, mode="full")[: len(close)]
    return np.where(close[:, 0] > average, 1.0, 0.0)[:, None]
'''


class TemplateOut(BaseModel):
    """A ready-made strategy and the JSON schema of its parameters."""

    model_config = ConfigDict(from_attributes=True)

    name: str = Field(description="What a configuration's `strategy.name` says")
    title: str
    description: str
    params_schema: dict[str, Any] = Field(description="JSON schema of the parameters")


class StrategyCreate(BaseModel):
    """New custom strategy code."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    code: str = Field(min_length=1, description="Python source", examples=[EXAMPLE_CODE])


class StrategyUpdate(BaseModel):
    """What to change in a custom strategy (omitted fields stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    code: str | None = Field(default=None, min_length=1)


class StrategyOut(BaseModel):
    """A custom strategy without its code."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    description: str
    code_hash: str = Field(description="SHA-256 of the code")
    owner_id: uuid.UUID
    team_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class StrategyDetail(StrategyOut):
    """A custom strategy with its code."""

    code: str
