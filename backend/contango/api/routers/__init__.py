"""Every router of ``/api/v1``, in the order they appear in the API documentation."""

from fastapi import APIRouter

from contango.api.routers import (
    audit,
    auth,
    backtests,
    continuous,
    contracts,
    datasets,
    research,
    strategies,
    users,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    users.router,
    contracts.router,
    datasets.router,
    continuous.router,
    strategies.router,
    backtests.router,
    research.router,
    audit.router,
)
