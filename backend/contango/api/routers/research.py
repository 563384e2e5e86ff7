"""Research endpoints."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/research", tags=["research"])
