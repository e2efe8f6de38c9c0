"""FastAPI: ``app.include_router(pg_health.fastapi.router(readiness))``.

GET (and HEAD) ``/health/live``, ``/health/ready`` and ``/health``, out of
the OpenAPI schema unless ``include_in_schema=True``.  With an
:class:`~pg_health.AsyncReadiness` the routes are coroutines; with a
blocking :class:`~pg_health.Readiness` they are plain functions, which
FastAPI runs in its thread pool.  Written against FastAPI's public
``APIRouter`` only: 0.92 (Debian bookworm) to current releases.
"""
from __future__ import annotations

from typing import Any

from .starlette import _endpoints
from ._http import paths

__all__ = ["router"]


def router(readiness: Any, *, prefix: str = "/health", include_in_schema: bool = False) -> Any:
    """An ``APIRouter`` with the three routes."""
    from fastapi import APIRouter

    live, ready, report = _endpoints(readiness)
    r = APIRouter()
    for path, endpoint, name in zip(paths(prefix), (live, ready, report),
                                    ("pg_health_live", "pg_health_ready", "pg_health_report")):
        r.add_api_route(path, endpoint, methods=["GET", "HEAD"], name=name,
                        include_in_schema=include_in_schema)
    return r
