"""Starlette (and anything ASGI built on it): ``Starlette(routes=[...,
*pg_health.starlette.routes(readiness)])`` or
``app.router.routes.extend(pg_health.starlette.routes(readiness))``.

GET and HEAD ``/health/live``, ``/health/ready`` and ``/health``.
"""
from __future__ import annotations

from typing import Any, Callable, List, Tuple

from ._http import CONTENT_TYPE, HEADERS, body, is_async, paths
from .readiness import Answer

__all__ = ["routes"]


def _response(answer: Answer) -> Any:
    from starlette.responses import Response

    return Response(body(answer), status_code=answer.status, media_type=CONTENT_TYPE,
                    headers=HEADERS)


def _endpoints(readiness: Any) -> Tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """(live, ready, report) endpoints taking no argument (FastAPI) ..."""
    if is_async(readiness):
        async def live() -> Any:
            return _response(readiness.live())

        async def ready() -> Any:
            return _response(await readiness.ready())

        async def report() -> Any:
            return _response(await readiness.report())
    else:
        def live() -> Any:  # type: ignore[misc]
            return _response(readiness.live())

        def ready() -> Any:  # type: ignore[misc]
            return _response(readiness.ready())

        def report() -> Any:  # type: ignore[misc]
            return _response(readiness.report())
    return live, ready, report


def routes(readiness: Any, *, prefix: str = "/health") -> List[Any]:
    """Starlette ``Route`` objects for the three paths."""
    from starlette.routing import Route

    out = []
    for path, endpoint in zip(paths(prefix), _endpoints(readiness)):
        if is_async(readiness):
            async def handler(request: Any, _endpoint: Any = endpoint) -> Any:
                return await _endpoint()
        else:
            def handler(request: Any, _endpoint: Any = endpoint) -> Any:  # type: ignore[misc]
                return _endpoint()
        out.append(Route(path, handler, methods=["GET", "HEAD"]))
    return out
