"""Shared fixtures: every test gets its own data folder and fresh settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contango.settings import get_settings


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point CONTANGO_DATA_DIR at a fresh folder so no test sees another's data."""
    folder = tmp_path_factory.mktemp("contango-data")
    monkeypatch.setenv("CONTANGO_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()
