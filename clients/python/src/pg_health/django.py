"""Django: ``urlpatterns += pg_health.django.urls(readiness)``.

GET (and HEAD) ``health/live``, ``health/ready`` and ``health``, as plain
(synchronous) views with a blocking :class:`~pg_health.Readiness`; under
ASGI Django runs them in a thread.  :func:`conninfo` builds the libpq
conninfo of a ``DATABASES`` entry, so that the package connects where the
application does, with connections of its own.  Written against Django's
public ``path()``, ``HttpResponse`` and settings: Django 3.2 (Debian
bookworm) to current releases.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List

from ._http import CONTENT_TYPE, HEADERS, body, is_async, paths
from .readiness import Answer

__all__ = ["urls", "conninfo"]

# the libpq keywords a DATABASES entry's OPTIONS may carry (the others are
# Django's own: isolation_level, pool, server_side_binding, ...)
_LIBPQ_OPTIONS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslcrl", "sslcompression",
    "sslnegotiation", "sslsni", "requiressl", "gssencmode", "channel_binding", "require_auth",
    "krbsrvname", "gsslib", "connect_timeout", "options", "target_session_attrs",
    "load_balance_hosts", "passfile", "service", "keepalives", "keepalives_idle",
    "keepalives_interval", "keepalives_count", "tcp_user_timeout", "hostaddr",
    "client_encoding", "application_name",
}


def _response(answer: Answer) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(body(answer), status=answer.status, content_type=CONTENT_TYPE)
    for key, value in HEADERS.items():
        response[key] = value
    return response


def urls(readiness: Any, *, prefix: str = "/health") -> List[Any]:
    """``path()`` entries for ``health/live``, ``health/ready`` and ``health``."""
    from django.urls import path

    if is_async(readiness):
        raise TypeError("these views are synchronous: give pg_health.Readiness, "
                        "not AsyncReadiness")

    def view(answer: Callable[[], Answer]) -> Callable[[Any], Any]:
        def respond(request: Any) -> Any:
            if request.method not in ("GET", "HEAD"):
                from django.http import HttpResponseNotAllowed

                return HttpResponseNotAllowed(["GET", "HEAD"])
            return _response(answer())
        return respond

    live_path, ready_path, report_path = (p.lstrip("/") for p in paths(prefix))
    return [path(live_path, view(readiness.live), name="pg_health_live"),
            path(ready_path, view(readiness.ready), name="pg_health_ready"),
            path(report_path, view(readiness.report), name="pg_health_report")]


def _quote(value: Any) -> str:
    text = str(value)
    if text and not any(c in text for c in " '\\\t\n"):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(alias: str = "default") -> str:
    """The libpq conninfo of ``settings.DATABASES[alias]``."""
    from django.conf import settings

    db: Dict[str, Any] = settings.DATABASES[alias]
    if "postgresql" not in db.get("ENGINE", ""):
        raise ValueError("DATABASES[%r] is not PostgreSQL (%s)" % (alias, db.get("ENGINE")))
    parts = {"dbname": db.get("NAME"), "user": db.get("USER"), "password": db.get("PASSWORD"),
             "host": db.get("HOST"), "port": db.get("PORT")}
    for key, value in (db.get("OPTIONS") or {}).items():
        if key in _LIBPQ_OPTIONS:
            parts[key] = value
    return " ".join("%s=%s" % (k, _quote(v)) for k, v in parts.items() if v not in (None, ""))
