"""Continuous endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/continuous", tags=["continuous"])
