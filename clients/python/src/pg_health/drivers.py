"""Connections of the package's own: one per component, one per readiness
checker, never one from the application's pool.

A *source* says where to connect, in whatever form the application already
has it:

* a libpq conninfo or URI (``"host=/run/postgresql dbname=app user=svc"``,
  ``"postgresql://svc@db/app"``); a URI may name the driver the SQLAlchemy
  way (``"postgresql+asyncpg://..."``);
* an SQLAlchemy ``Engine`` or ``AsyncEngine``: its URL and dialect say where
  and how (``connect_args`` given to ``create_engine`` are not visible from
  the engine: pass them again as ``connect_args=``);
* a connector made here (:class:`PsycopgConnector`, :class:`Psycopg2Connector`,
  :class:`AsyncPsycopgConnector`, :class:`AsyncpgConnector`).

Drivers are imported when a connection is made, never before: the package
needs only the driver the application already uses.
"""
from __future__ import annotations

import asyncio
import importlib.util
import math
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from . import _sql

__all__ = [
    "SyncConnection",
    "AsyncConnection",
    "SyncConnector",
    "AsyncConnector",
    "PsycopgConnector",
    "Psycopg2Connector",
    "AsyncPsycopgConnector",
    "AsyncpgConnector",
    "sync_connector",
    "async_connector",
]


def _connect_timeout(timeout: float) -> int:
    # libpq takes whole seconds, and treats anything under 2 as 2
    return max(2, int(math.ceil(timeout)))


class SyncConnection:
    """One open connection, used by one thread at a time."""

    def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def cancel(self) -> None:
        """Ask the server to cancel the running statement (thread-safe)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class AsyncConnection:
    """One open connection, used by one task at a time."""

    async def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    def terminate(self) -> None:
        """Close at once, without waiting for the server (after a timeout)."""
        raise NotImplementedError


class SyncConnector:
    """Makes the package's own blocking connections."""

    driver = "?"

    def connect(self, application_name: str, timeout: float) -> SyncConnection:
        raise NotImplementedError


class AsyncConnector:
    """Makes the package's own asyncio connections."""

    driver = "?"

    async def connect(self, application_name: str, timeout: float) -> AsyncConnection:
        raise NotImplementedError


# ---------------------------------------------------------------- psycopg 3

def _psycopg_kwargs(kwargs: Dict[str, Any], application_name: str,
                    timeout: float) -> Dict[str, Any]:
    """psycopg 3's connection arguments, blocking or asyncio: the user's,
    with a connect timeout unless they gave one, autocommit, and no
    prepared statements."""
    args = dict(kwargs)
    args.setdefault("connect_timeout", _connect_timeout(timeout))
    args.update(application_name=application_name, autocommit=True, prepare_threshold=None)
    return args


class _PsycopgConnection(SyncConnection):
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        cur = self._conn.execute(_sql.render(template, "format"), tuple(params))
        row = cur.fetchone()
        return row[0] if row else None

    def cancel(self) -> None:
        self._conn.cancel()

    def close(self) -> None:
        self._conn.close()


class PsycopgConnector(SyncConnector):
    """psycopg 3, blocking.  ``kwargs`` go to ``psycopg.connect()``."""

    driver = "psycopg"

    def __init__(self, conninfo: str = "", **kwargs: Any) -> None:
        self.conninfo = conninfo
        self.kwargs = kwargs

    def connect(self, application_name: str, timeout: float) -> SyncConnection:
        import psycopg

        return _PsycopgConnection(
            psycopg.connect(self.conninfo, **_psycopg_kwargs(self.kwargs, application_name, timeout)))


class _AsyncPsycopgConnection(AsyncConnection):
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        cur = await self._conn.execute(_sql.render(template, "format"), tuple(params))
        row = await cur.fetchone()
        return row[0] if row else None

    async def close(self) -> None:
        await self._conn.close()

    def terminate(self) -> None:
        # the libpq connection itself: closes the socket without a round trip
        self._conn.pgconn.finish()


class AsyncPsycopgConnector(AsyncConnector):
    """psycopg 3, asyncio.  ``kwargs`` go to ``psycopg.AsyncConnection.connect()``."""

    driver = "psycopg"

    def __init__(self, conninfo: str = "", **kwargs: Any) -> None:
        self.conninfo = conninfo
        self.kwargs = kwargs

    async def connect(self, application_name: str, timeout: float) -> AsyncConnection:
        import psycopg

        conn = await asyncio.wait_for(
            psycopg.AsyncConnection.connect(
                self.conninfo, **_psycopg_kwargs(self.kwargs, application_name, timeout)),
            timeout)
        return _AsyncPsycopgConnection(conn)


# ----------------------------------------------------------------- psycopg2

class _Psycopg2Connection(SyncConnection):
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        with self._conn.cursor() as cur:
            cur.execute(_sql.render(template, "format"), tuple(params))
            row = cur.fetchone() if cur.description else None
            return row[0] if row else None

    def cancel(self) -> None:
        self._conn.cancel()

    def close(self) -> None:
        self._conn.close()


class Psycopg2Connector(SyncConnector):
    """psycopg2, blocking.  ``kwargs`` go to ``psycopg2.connect()``."""

    driver = "psycopg2"

    def __init__(self, conninfo: str = "", **kwargs: Any) -> None:
        self.conninfo = conninfo
        self.kwargs = kwargs

    def connect(self, application_name: str, timeout: float) -> SyncConnection:
        import psycopg2

        kwargs = dict(self.kwargs)
        kwargs.setdefault("connect_timeout", _connect_timeout(timeout))
        kwargs["application_name"] = application_name
        conn = psycopg2.connect(self.conninfo, **kwargs)
        conn.autocommit = True
        return _Psycopg2Connection(conn)


# ------------------------------------------------------------------ asyncpg

class _AsyncpgConnection(AsyncConnection):
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetchval(self, template: str, params: Sequence[Any] = ()) -> Any:
        return await self._conn.fetchval(_sql.render(template, "numeric"), *params)

    async def close(self) -> None:
        await self._conn.close()

    def terminate(self) -> None:
        self._conn.terminate()


class AsyncpgConnector(AsyncConnector):
    """asyncpg.  ``dsn`` is a URI (asyncpg reads no key=value conninfo);
    ``kwargs`` go to ``asyncpg.connect()``."""

    driver = "asyncpg"

    def __init__(self, dsn: Optional[str] = None, **kwargs: Any) -> None:
        self.dsn = dsn
        self.kwargs = kwargs

    async def connect(self, application_name: str, timeout: float) -> AsyncConnection:
        import asyncpg

        kwargs = dict(self.kwargs)
        settings = dict(kwargs.pop("server_settings", None) or {})
        settings["application_name"] = application_name
        # no statement cache: works behind a pooler in transaction mode too
        kwargs.update(server_settings=settings, statement_cache_size=0, timeout=timeout)
        conn = await asyncio.wait_for(asyncpg.connect(self.dsn, **kwargs), timeout)
        return _AsyncpgConnection(conn)


# ------------------------------------------------------------ from a source

Source = Union[str, SyncConnector, AsyncConnector, Any]

_SQLALCHEMY_ONLY = ("async_fallback", "async_creator_fn", "prepared_statement_cache_size",
                    "prepared_statement_name_func")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _split_url_driver(source: str) -> "tuple[str, Optional[str]]":
    """("postgresql://...", "asyncpg") from "postgresql+asyncpg://..."."""
    scheme, sep, rest = source.partition("://")
    if not sep or "+" not in scheme:
        return source, None
    base, _, driver = scheme.partition("+")
    return base + "://" + rest, driver


def _is_uri(source: str) -> bool:
    return source.startswith(("postgresql://", "postgres://"))


def _engine_parts(engine: Any, connect_args: Optional[Mapping[str, Any]]) -> "tuple[str, Dict[str, Any]]":
    """(driver, keyword arguments for the driver's connect) of an SQLAlchemy engine."""
    sync_engine = getattr(engine, "sync_engine", engine)
    dialect = sync_engine.dialect
    if getattr(dialect, "name", None) != "postgresql":
        raise TypeError("pg_health needs a PostgreSQL engine, not %r" % getattr(dialect, "name", dialect))
    args, kwargs = dialect.create_connect_args(sync_engine.url)
    kwargs = dict(kwargs)
    if args:
        kwargs.setdefault("conninfo" if dialect.driver != "asyncpg" else "dsn", args[0])
    for key in _SQLALCHEMY_ONLY:
        kwargs.pop(key, None)
    kwargs.update(connect_args or {})
    return dialect.driver, kwargs


def _is_engine(source: Any) -> bool:
    return hasattr(getattr(source, "sync_engine", source), "dialect") and \
        hasattr(getattr(source, "sync_engine", source), "url")


def sync_connector(source: Source, *, driver: Optional[str] = None,
                   connect_args: Optional[Mapping[str, Any]] = None) -> SyncConnector:
    """A blocking connector for ``source`` (psycopg 3, else psycopg2)."""
    if isinstance(source, SyncConnector):
        return source
    if isinstance(source, AsyncConnector):
        raise TypeError("%r makes asyncio connections: use the Async* classes with it" % source)
    extra = dict(connect_args or {})
    if isinstance(source, str):
        conninfo, url_driver = _split_url_driver(source)
        driver = driver or url_driver
        kwargs: Dict[str, Any] = {}
    elif _is_engine(source):
        url_driver, kwargs = _engine_parts(source, None)
        conninfo = kwargs.pop("conninfo", "")
        kwargs.pop("dsn", None)
        driver = driver or ("psycopg2" if url_driver == "psycopg2" else None)
    else:
        raise TypeError("cannot connect with %r: give a conninfo or URI, an SQLAlchemy engine, "
                        "or a connector" % (source,))
    kwargs.update(extra)
    if driver in (None, "psycopg", "psycopg_async"):
        if driver is None and not _installed("psycopg"):
            driver = "psycopg2"
        else:
            return PsycopgConnector(conninfo, **kwargs)
    if driver == "psycopg2":
        return Psycopg2Connector(conninfo, **kwargs)
    raise ValueError("driver %r cannot make blocking connections: use psycopg or psycopg2 "
                     "(or the Async* classes for asyncpg)" % driver)


def async_connector(source: Source, *, driver: Optional[str] = None,
                    connect_args: Optional[Mapping[str, Any]] = None) -> AsyncConnector:
    """An asyncio connector for ``source`` (the engine's or the URI's driver;
    otherwise psycopg 3 if installed, else asyncpg)."""
    if isinstance(source, AsyncConnector):
        return source
    if isinstance(source, SyncConnector):
        raise TypeError("%r makes blocking connections: use the classes without Async with it"
                        % source)
    extra = dict(connect_args or {})
    if isinstance(source, str):
        conninfo, url_driver = _split_url_driver(source)
        driver = driver or url_driver
        if driver is None:
            driver = "psycopg" if _installed("psycopg") or not _is_uri(conninfo) else "asyncpg"
        if driver == "asyncpg":
            if not _is_uri(conninfo):
                raise ValueError("asyncpg reads only URIs (postgresql://user@host/db), "
                                 "not key=value conninfo: give a URI, or driver='psycopg'")
            return AsyncpgConnector(conninfo, **extra)
        if driver in ("psycopg", "psycopg_async"):
            return AsyncPsycopgConnector(conninfo, **extra)
        raise ValueError("driver %r: pg_health's asyncio connections use asyncpg or psycopg"
                         % driver)
    if _is_engine(source):
        engine_driver, kwargs = _engine_parts(source, extra)
        driver = driver or engine_driver
        if driver == "asyncpg":
            dsn = kwargs.pop("dsn", None)
            return AsyncpgConnector(dsn, **kwargs)
        if driver in ("psycopg", "psycopg_async", "psycopg2"):
            # libpq's keywords, which psycopg 3 takes as psycopg2 does
            return AsyncPsycopgConnector(kwargs.pop("conninfo", ""), **kwargs)
        raise ValueError("the engine's driver %r is not one pg_health connects with: "
                         "use postgresql+asyncpg or postgresql+psycopg" % driver)
    raise TypeError("cannot connect with %r: give a conninfo or URI, an SQLAlchemy engine, "
                    "or a connector" % (source,))
