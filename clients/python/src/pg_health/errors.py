"""Errors that say what to do.

Every error the package raises is a :class:`PgHealthError`: ``message`` says
what went wrong, ``hint`` what to do about it, and ``sqlstate`` is the
server's code when the server raised it.  Drivers' exceptions (psycopg,
psycopg2, asyncpg) are translated by :func:`translate`, from the SQLSTATEs
pg_health raises:

=========  ==========================================================  =========================
SQLSTATE   when                                                        raised as
=========  ==========================================================  =========================
3F000      schema "health" does not exist                              :class:`ExtensionMissing`
42883      a health.* function does not exist (an older extension)    :class:`ExtensionOutdated`
55000      pg_health is not in shared_preload_libraries                :class:`NotPreloaded`
55000      the extension's objects do not match the library            :class:`ExtensionOutdated`
42501      not the component's reporter; no right to health.report()  :class:`NotAuthorized`
42704      a heartbeat before any state (handled inside: re-reported)  :class:`ComponentNotReported`
53400      every component place is taken                              :class:`ComponentLimitReached`
22023 ...  a bad name, state, or a detail too long                     :class:`InvalidArgument`
08xxx ...  the database cannot be reached, or is shutting down         :class:`DatabaseUnavailable`
=========  ==========================================================  =========================
"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional, Tuple

__all__ = [
    "PgHealthError",
    "DatabaseUnavailable",
    "TimedOut",
    "ExtensionMissing",
    "ExtensionOutdated",
    "NotPreloaded",
    "NotAuthorized",
    "ComponentNotReported",
    "ComponentLimitReached",
    "InvalidArgument",
    "translate",
]


class PgHealthError(Exception):
    """Something pg_health or the database refused; ``hint`` says what to do."""

    def __init__(
        self,
        message: str,
        *,
        hint: Optional[str] = None,
        sqlstate: Optional[str] = None,
        detail: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.sqlstate = sqlstate
        self.detail = detail

    def __str__(self) -> str:
        text = self.message
        if self.detail:
            text += " (" + self.detail.rstrip(".") + ")"
        if self.hint:
            text += ": " + self.hint
        return text

    def as_dict(self) -> Dict[str, Any]:
        """The error as a route's JSON body shows it."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "detail": self.detail,
            "hint": self.hint,
            "sqlstate": self.sqlstate,
        }


class DatabaseUnavailable(PgHealthError):
    """The database could not be reached or answered with a connection error."""


class TimedOut(DatabaseUnavailable):
    """The database did not answer within the timeout."""


class ExtensionMissing(PgHealthError):
    """pg_health is not installed in the database connected to."""


class ExtensionOutdated(PgHealthError):
    """The extension's SQL objects are older than what is called, or than the library."""


class NotPreloaded(PgHealthError):
    """The extension is installed but its library is not in shared_preload_libraries."""


class NotAuthorized(PgHealthError):
    """The role may not do this (report for the component, read the report)."""


class ComponentNotReported(PgHealthError):
    """A heartbeat or pool report before the component reported a state."""


class ComponentLimitReached(PgHealthError):
    """Every place for components (pg_health.max_components) is taken."""


class InvalidArgument(PgHealthError, ValueError):
    """A name, state, detail or count the server refused."""


def _server_fields(exc: BaseException) -> Optional[Tuple[str, str, Optional[str], Optional[str]]]:
    """(sqlstate, message, detail, hint) of an error the server raised, else None."""
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if not isinstance(sqlstate, str) or len(sqlstate) != 5:
        return None
    diag = getattr(exc, "diag", None)
    if diag is not None:      # psycopg 3, psycopg2
        message = getattr(diag, "message_primary", None)
        detail = getattr(diag, "message_detail", None)
        hint = getattr(diag, "message_hint", None)
    else:                     # asyncpg
        message = getattr(exc, "message", None)
        detail = getattr(exc, "detail", None)
        hint = getattr(exc, "hint", None)
    if not message:
        message = str(exc).strip().split("\n")[0]
    return sqlstate, message, detail, hint


# Errors with no SQLSTATE that mean "the database is not reachable" (by
# class name, so that no driver has to be imported to recognize them).
_CONNECTION_ERROR_NAMES = {
    "OperationalError",              # psycopg, psycopg2: connection failed or lost
    "InterfaceError",                # psycopg, psycopg2, asyncpg: connection closed
    "ConnectionDoesNotExistError",   # asyncpg
    "ConnectionFailureError",        # asyncpg
    "InternalClientError",           # asyncpg
    "ClientCannotConnectError",      # asyncpg
    "PostgresConnectionError",       # asyncpg
}


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, asyncio.TimeoutError, TimeoutError, EOFError, ConnectionError)):
        return True
    return any(cls.__name__ in _CONNECTION_ERROR_NAMES for cls in type(exc).__mro__)


def translate(
    exc: BaseException,
    *,
    doing: str,
    component: Optional[str] = None,
) -> Optional[PgHealthError]:
    """The :class:`PgHealthError` for a driver's exception, or None when it is
    not one the package knows (a bug to let through).

    ``doing`` names what was attempted ("report for component", "read the
    report", ...); ``component`` the component, for the hints."""
    if isinstance(exc, PgHealthError):
        return exc
    fields = _server_fields(exc)
    if fields is None:
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return TimedOut("the database did not answer in time (%s)" % doing,
                            hint="check that the server is up and not overloaded; "
                                 "the request was abandoned")
        if _is_connection_error(exc):
            text = str(exc).strip() or type(exc).__name__
            return DatabaseUnavailable("cannot reach the database: %s" % text.split("\n")[0],
                                       detail="\n".join(text.split("\n")[1:]).strip() or None,
                                       hint="check that the server is running and accepts "
                                            "connections from this role (its conninfo, pg_hba.conf)")
        return None
    sqlstate, message, detail, hint = fields
    name = component or "?"
    if sqlstate == "3F000" and "health" in message:
        return ExtensionMissing(
            "pg_health is not installed in this database (%s)" % message,
            sqlstate=sqlstate,
            hint="as a superuser, run CREATE EXTENSION pg_health in the database this "
                 "connection uses (and put pg_health in shared_preload_libraries)")
    if sqlstate == "42883" and "health." in message:
        return ExtensionOutdated(
            "this pg_health extension has no such function (%s)" % message,
            sqlstate=sqlstate, detail=detail,
            hint="update it: ALTER EXTENSION pg_health UPDATE (the package needs 1.1 or later "
                 "for pools and per-tenant readiness)")
    if sqlstate == "55000":
        text = " ".join(filter(None, (message, hint)))
        if "shared_preload_libraries" in text:
            return NotPreloaded(
                "pg_health is installed but not loaded: %s" % message,
                sqlstate=sqlstate,
                hint="add pg_health to shared_preload_libraries in postgresql.conf and "
                     "restart the server")
        if "ALTER EXTENSION" in text:
            return ExtensionOutdated(message, sqlstate=sqlstate, detail=detail,
                                     hint="ALTER EXTENSION pg_health UPDATE")
        return PgHealthError(message, sqlstate=sqlstate, detail=detail, hint=hint)
    if sqlstate == "42501":
        if "component" in message:
            return NotAuthorized(
                message, sqlstate=sqlstate, detail=detail,
                hint="connect as the component's reporter role, or, as a superuser, name this "
                     "role: SELECT health.configure_component('%s', reporter => '<this role>') "
                     "(or GRANT <its reporter role> TO <this role>)" % name)
        if "report" in message or "checks" in message:
            return NotAuthorized(
                message, sqlstate=sqlstate, detail=detail,
                hint="GRANT pg_monitor TO <this role>, or GRANT EXECUTE ON FUNCTION "
                     "health.report TO <this role> (health.ready() needs no grant)")
        return NotAuthorized(message, sqlstate=sqlstate, detail=detail, hint=hint)
    if sqlstate == "42704":
        return ComponentNotReported(message, sqlstate=sqlstate, detail=detail,
                                    hint=hint or "report a state first")
    if sqlstate == "53400":
        return ComponentLimitReached(message, sqlstate=sqlstate, detail=detail,
                                     hint=hint or "raise pg_health.max_components (restart)")
    if sqlstate in ("22023", "22004", "22001"):
        return InvalidArgument(message, sqlstate=sqlstate, detail=detail, hint=hint)
    if sqlstate == "57014":
        return TimedOut("the database did not answer in time (%s): %s" % (doing, message),
                        sqlstate=sqlstate,
                        hint="check that the server is not overloaded")
    if sqlstate[:2] in ("08", "28", "3D", "53") or sqlstate[:3] == "57P":
        return DatabaseUnavailable("cannot use the database: %s" % message, sqlstate=sqlstate,
                                   detail=detail,
                                   hint=hint or "check that the server is running and accepts "
                                                "connections from this role")
    return PgHealthError(message, sqlstate=sqlstate, detail=detail, hint=hint)
