"""pg_health for Python applications: report the application's life cycle and
its connection pool into pg_health's verdict, and answer /health routes from
that verdict.

* :class:`Component` / :class:`AsyncComponent`: ``starting`` (with a detail),
  ``ready``, a heartbeat from a thread or task over a connection of its own,
  ``failed`` with an exception's message, ``stopped`` on shutdown;
* :meth:`Component.watch_pool`: the application's pool (psycopg_pool,
  asyncpg, SQLAlchemy) reported with health.report_pool(), its waits timed
  by the package;
* :class:`Readiness` / :class:`AsyncReadiness`: 200 or 503 with the report,
  within a hard timeout, 503 (never 500) when the database cannot say; and
  routes for FastAPI (:mod:`pg_health.fastapi`), Starlette
  (:mod:`pg_health.starlette`), Flask (:mod:`pg_health.flask`) and Django
  (:mod:`pg_health.django`);
* :mod:`pg_health.errors`: what went wrong, and what to do.

Drivers (psycopg 3, psycopg2, asyncpg) and frameworks are imported only when
used.  docs/python.md in the pg_health repository is the manual.
"""
from .component import STATES, AsyncComponent, Component
from .drivers import AsyncpgConnector, AsyncPsycopgConnector, Psycopg2Connector, PsycopgConnector
from .errors import (ComponentLimitReached, ComponentNotReported, DatabaseUnavailable,
                     ExtensionMissing, ExtensionOutdated, InvalidArgument, NotAuthorized,
                     NotPreloaded, PgHealthError, TimedOut)
from .pools import PoolStats, PoolWatch
from .readiness import Answer, AsyncReadiness, Readiness

__version__ = "1.2.0"

__all__ = [
    "STATES", "Component", "AsyncComponent",
    "PsycopgConnector", "Psycopg2Connector", "AsyncPsycopgConnector", "AsyncpgConnector",
    "PgHealthError", "DatabaseUnavailable", "TimedOut", "ExtensionMissing", "ExtensionOutdated",
    "NotPreloaded", "NotAuthorized", "ComponentNotReported", "ComponentLimitReached",
    "InvalidArgument",
    "PoolStats", "PoolWatch",
    "Answer", "Readiness", "AsyncReadiness",
]
