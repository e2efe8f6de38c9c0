"""Flask: ``app.register_blueprint(pg_health.flask.blueprint(readiness))``.

GET (and HEAD) ``/health/live``, ``/health/ready`` and ``/health``, with a
blocking :class:`~pg_health.Readiness` (Flask's views are synchronous).
Written against Flask's public ``Blueprint`` and ``Response``: Flask 2.2
(Debian bookworm) to current releases.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ._http import CONTENT_TYPE, HEADERS, body, is_async, paths
from .readiness import Answer

__all__ = ["blueprint"]


def _response(answer: Answer) -> Any:
    from flask import Response

    return Response(body(answer), status=answer.status, mimetype=CONTENT_TYPE,
                    headers=dict(HEADERS))


def blueprint(readiness: Any, *, prefix: str = "/health", name: Optional[str] = None) -> Any:
    """A ``Blueprint`` with the three routes (named after the prefix, so that
    two of them, a per-tenant one beside the server-wide one, can be mounted)."""
    from flask import Blueprint

    if name is None:
        stem = prefix.strip("/")
        name = "pg_health" if stem == "health" else "pg_health_" + re.sub(r"\W", "_", stem)

    if is_async(readiness):
        raise TypeError("Flask's views are synchronous: give pg_health.Readiness, "
                        "not AsyncReadiness")
    live_path, ready_path, report_path = paths(prefix)
    bp = Blueprint(name, __name__)

    @bp.route(live_path, methods=["GET", "HEAD"])
    def live() -> Any:
        return _response(readiness.live())

    @bp.route(ready_path, methods=["GET", "HEAD"])
    def ready() -> Any:
        return _response(readiness.ready())

    @bp.route(report_path, methods=["GET", "HEAD"])
    def report() -> Any:
        return _response(readiness.report())

    return bp
