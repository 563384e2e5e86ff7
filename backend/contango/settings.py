"""Process-wide settings, read from the environment (prefix ``CONTANGO_``) when first asked for.

Nothing is read at import time: tests and long-lived workers call :func:`get_settings` and can
clear its cache, so that the same job gives the same result whatever ran before.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.cwd() / "var" / "data"


class Settings(BaseSettings):
    """Contango's configuration; every field can be set as ``CONTANGO_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CONTANGO_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder holding the market data store, user contract specs and results.",
    )
    user: str = Field(
        default="local",
        description="Name recorded as the author of dataset versions created from this process.",
    )

    @property
    def store_dir(self) -> Path:
        """Where the versioned Parquet store keeps its datasets."""
        return self.data_dir / "store"

    @property
    def specs_dir(self) -> Path:
        """Where user-supplied contract specification files (``*.yaml``) are read from."""
        return self.data_dir / "specs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
