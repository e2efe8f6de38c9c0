"""What every framework's routes share: the paths, the headers, the answers."""
from __future__ import annotations

from typing import Any, Dict, Tuple

from .readiness import Answer, AsyncReadiness, Readiness

#: every answer: JSON, never cached (a cached 200 would hide the next 503)
HEADERS: Dict[str, str] = {"Cache-Control": "no-store"}
CONTENT_TYPE = "application/json"


def paths(prefix: str) -> Tuple[str, str, str]:
    """(live, ready, report) under ``prefix`` ("/health": /health/live,
    /health/ready and /health)."""
    base = "/" + prefix.strip("/")
    if base == "/":
        return "/live", "/ready", "/"
    return base + "/live", base + "/ready", base


def is_async(readiness: Any) -> bool:
    if isinstance(readiness, AsyncReadiness):
        return True
    if isinstance(readiness, Readiness):
        return False
    raise TypeError("expected a pg_health Readiness or AsyncReadiness, not %r" % (readiness,))


def body(answer: Answer) -> bytes:
    return (answer.json() + "\n").encode("utf-8")
