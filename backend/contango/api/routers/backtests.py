"""Backtests endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/backtests", tags=["backtests"])
