"""The database's verdict for a route: 200 or 503, and why, within a hard timeout.

``Readiness`` (blocking: Flask, Django, WSGI) and ``AsyncReadiness``
(asyncio: FastAPI, Starlette) read health.report() over one connection of
their own (never one from the application's pool, which is exhausted exactly
when the answer matters), opened on the first request and reopened after an
error.  Every answer comes within ``timeout`` seconds: when the database is
stopped, unreachable, hangs, or pg_health is missing, the answer is 503 with
a JSON body that says so (``"status": "unknown"`` and an ``error`` with what
to do), never an exception for the framework to turn into a 500.

Three answers, each an :class:`Answer` (``status``, ``body``):

``live()``
    200 while the process answers.  It does not ask the database: a liveness
    probe that fails with the database restarts every instance of the
    service at once, and fixes nothing.  The body has the component's state
    as this process knows it, when one is given.
``ready()``
    200 when the verdict is ready (and, with ``for_user``/``for_database``,
    a new connection of that role to that database would be admitted), else
    503.  The body is what pg_health's own ``GET /ready`` answers: the
    verdict and the reasons (every check that is not ok), and the
    ``admission`` when asked.
``report()``
    The same status, and the whole health.report() document as the body (as
    pg_health's ``GET /health``).

The role connecting needs ``pg_monitor`` or ``GRANT EXECUTE ON FUNCTION
health.report``; without it ``ready()`` falls back to health.ready() (which
every role may call) and says so in the body, and ``report()`` is 503 with
that hint.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import queue
import threading
import time
from typing import Any, Dict, NamedTuple, Optional, Tuple

from . import _sql, errors
from .drivers import AsyncConnection, AsyncConnector, SyncConnection, SyncConnector, \
    async_connector, sync_connector

__all__ = ["Answer", "Readiness", "AsyncReadiness"]

_VERDICT_KEYS = ("status", "ready", "live", "started", "role", "requested_role", "generation",
                 "sampled_at", "sample_age_ms")


class Answer(NamedTuple):
    """An HTTP status and a JSON-serializable body."""

    status: int
    body: Dict[str, Any]

    def json(self) -> str:
        return json.dumps(self.body)


def _verdict(report: Dict[str, Any]) -> bool:
    admission = report.get("admission")
    if isinstance(admission, dict):
        return admission.get("ready") is True
    return report.get("ready") is True


def _ready_answer(report: Dict[str, Any]) -> Answer:
    ok = _verdict(report)
    body: Dict[str, Any] = {"probe": "ready", "ok": ok}
    for key in _VERDICT_KEYS:
        if key in report:
            body[key] = report[key]
    body["reasons"] = [{"check": c.get("name"), "status": c.get("status"), "detail": c.get("detail")}
                       for c in report.get("checks") or [] if c.get("status") != "ok"]
    if "admission" in report:
        body["admission"] = report["admission"]
    return Answer(200 if ok else 503, body)


def _boolean_answer(ready: bool, denied: errors.PgHealthError) -> Answer:
    return Answer(200 if ready else 503, {
        "probe": "ready", "ok": bool(ready), "status": "ready" if ready else "not_ready",
        "ready": bool(ready), "reasons": None,
        "note": "health.ready() only: %s" % denied.hint})


def _error_answer(probe: str, err: errors.PgHealthError) -> Answer:
    return Answer(503, {"probe": probe, "ok": False, "status": "unknown", "ready": False,
                        "error": err.as_dict()})


class _Base:
    def __init__(self, timeout: float, for_user: Optional[str], for_database: Optional[str],
                 application_name: str, component: Any) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = float(timeout)
        self.for_user = for_user
        self.for_database = for_database
        self.application_name = application_name[:63]
        self.component = component
        # the role may not read the report: ask health.ready() instead
        self._report_denied: Optional[errors.PgHealthError] = None

    def _statement(self, kind: str) -> Tuple[str, Tuple[Any, ...]]:
        tenant = self.for_user is not None or self.for_database is not None
        if kind == "ready":
            return (_sql.READY_FOR, (self.for_user, self.for_database)) if tenant else (_sql.READY, ())
        return (_sql.REPORT_FOR, (self.for_user, self.for_database)) if tenant else (_sql.REPORT, ())

    def live(self) -> Answer:
        body: Dict[str, Any] = {"probe": "live", "ok": True, "live": True}
        if self.component is not None:
            body["component"] = self.component.describe()
        return Answer(200, body)

    def _translate(self, exc: BaseException, doing: str) -> errors.PgHealthError:
        err = errors.translate(exc, doing=doing)
        if err is None:
            err = errors.PgHealthError("%s: %s" % (type(exc).__name__, exc))
        return err

    def _denied(self, err: errors.PgHealthError) -> bool:
        return isinstance(err, errors.NotAuthorized) and err.sqlstate == "42501"


class Readiness(_Base):
    """The verdict for blocking code (Flask, Django, WSGI, threads).

    ``database`` is a conninfo or URI, an SQLAlchemy engine, or a connector.
    One worker thread runs the queries; a request waits for it at most
    ``timeout`` seconds, and concurrent requests share one query.
    """

    def __init__(self, database: Any, *, timeout: float = 2.0, for_user: Optional[str] = None,
                 for_database: Optional[str] = None,
                 application_name: str = "pg_health readiness", component: Any = None,
                 driver: Optional[str] = None,
                 connect_args: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(timeout, for_user, for_database, application_name, component)
        self.connector: SyncConnector = sync_connector(database, driver=driver,
                                                       connect_args=connect_args)
        self._lock = threading.Lock()
        self._queue: "queue.Queue[Optional[Tuple[str, concurrent.futures.Future[Any]]]]" = queue.Queue()
        self._thread: Optional[threading.Thread] = None
        self._inflight: Dict[str, "concurrent.futures.Future[Any]"] = {}
        self._conn: Optional[SyncConnection] = None
        self._busy_since: Optional[float] = None
        self._cancelled = False
        self._closed = False

    def ready(self) -> Answer:
        if self._report_denied is not None:
            try:
                return _boolean_answer(bool(self._ask("ready")), self._report_denied)
            except errors.PgHealthError as err:
                return _error_answer("ready", err)
        try:
            return _ready_answer(json.loads(self._ask("report")))
        except errors.PgHealthError as err:
            if self._denied(err):
                self._report_denied = err
                return self.ready()
            return _error_answer("ready", err)

    def report(self) -> Answer:
        try:
            report = json.loads(self._ask("report"))
        except errors.PgHealthError as err:
            return _error_answer("health", err)
        return Answer(200 if _verdict(report) else 503, report)

    def close(self) -> None:
        """End the worker thread and close the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join(self.timeout)
            if thread.is_alive():
                self._cancel()
                thread.join(self.timeout)

    # --------------------------------------------------------------- inside

    def _ask(self, kind: str) -> Any:
        deadline = time.monotonic() + self.timeout
        with self._lock:
            if self._closed:
                raise errors.PgHealthError("this Readiness is closed")
            busy = self._busy_since
            if busy is not None and time.monotonic() - busy > self.timeout:
                # the worker is still waiting for an earlier answer: do not queue
                raise errors.TimedOut(
                    "the database has not answered for %.1f s (an earlier request still waits)"
                    % (time.monotonic() - busy),
                    hint="check that the server is up and not overloaded")
            future = self._inflight.get(kind)
            if future is None or future.done():
                future = concurrent.futures.Future()
                self._inflight[kind] = future
                self._queue.put((kind, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="pg_health readiness",
                                                daemon=True)
                self._thread.start()
        try:
            return future.result(timeout=max(deadline - time.monotonic(), 0.0))
        except concurrent.futures.TimeoutError:
            self._cancel()
            raise errors.TimedOut("the database did not answer within %g s" % self.timeout,
                                  hint="check that the server is up and not overloaded") from None

    def _cancel(self) -> None:
        """Ask the server to cancel the statement in flight (from a thread of
        its own: a cancel request to a hung server may hang too)."""
        with self._lock:
            conn = self._conn
            if conn is None or self._cancelled:
                return
            self._cancelled = True
        threading.Thread(target=_quietly, args=(conn.cancel,), name="pg_health cancel",
                         daemon=True).start()

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    return
                kind, future = item
                if not future.set_running_or_notify_cancel():
                    continue
                self._busy_since = time.monotonic()
                try:
                    future.set_result(self._query(kind))
                except errors.PgHealthError as err:
                    future.set_exception(err)
                except Exception as exc:
                    future.set_exception(self._translate(exc, "read the verdict"))
                finally:
                    self._busy_since = None
                    self._cancelled = False
        finally:
            conn, self._conn = self._conn, None
            if conn is not None:
                _quietly(conn.close)

    def _query(self, kind: str) -> Any:
        template, params = self._statement(kind)
        for attempt in (1, 2):
            fresh = self._conn is None
            try:
                if self._conn is None:
                    self._conn = self.connector.connect(self.application_name, self.timeout)
                return self._conn.fetchval(template, params)
            except Exception as exc:
                err = self._translate(exc, "read the verdict")
                if isinstance(err, errors.DatabaseUnavailable) and not isinstance(err, errors.TimedOut):
                    conn, self._conn = self._conn, None
                    if conn is not None:
                        _quietly(conn.close)
                    # a connection the server ended (a restart): one new try
                    if attempt == 1 and not fresh:
                        continue
                raise err from None
        raise AssertionError("unreachable")


class AsyncReadiness(_Base):
    """The verdict for asyncio code (FastAPI, Starlette).

    ``database`` is a conninfo or URI, an SQLAlchemy ``AsyncEngine``, or a
    connector.  Requests take turns on the one connection; each waits at most
    ``timeout`` seconds in all, and a query that outlives it is abandoned and
    its connection closed.
    """

    def __init__(self, database: Any, *, timeout: float = 2.0, for_user: Optional[str] = None,
                 for_database: Optional[str] = None,
                 application_name: str = "pg_health readiness", component: Any = None,
                 driver: Optional[str] = None,
                 connect_args: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(timeout, for_user, for_database, application_name, component)
        self.connector: AsyncConnector = async_connector(database, driver=driver,
                                                         connect_args=connect_args)
        self._lock: Optional[asyncio.Lock] = None
        self._conn: Optional[AsyncConnection] = None
        self._closed = False

    async def ready(self) -> Answer:
        if self._report_denied is not None:
            try:
                return _boolean_answer(bool(await self._ask("ready")), self._report_denied)
            except errors.PgHealthError as err:
                return _error_answer("ready", err)
        try:
            return _ready_answer(json.loads(await self._ask("report")))
        except errors.PgHealthError as err:
            if self._denied(err):
                self._report_denied = err
                return await self.ready()
            return _error_answer("ready", err)

    async def report(self) -> Answer:
        try:
            report = json.loads(await self._ask("report"))
        except errors.PgHealthError as err:
            return _error_answer("health", err)
        return Answer(200 if _verdict(report) else 503, report)

    async def close(self) -> None:
        """Close the connection."""
        self._closed = True
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await asyncio.wait_for(conn.close(), self.timeout)
            except BaseException:
                _quietly(conn.terminate)

    async def _ask(self, kind: str) -> Any:
        if self._closed:
            raise errors.PgHealthError("this AsyncReadiness is closed")
        if self._lock is None:
            self._lock = asyncio.Lock()
        try:
            return await asyncio.wait_for(self._locked(kind), self.timeout)
        except asyncio.TimeoutError:
            raise errors.TimedOut("the database did not answer within %g s" % self.timeout,
                                  hint="check that the server is up and not overloaded") from None

    async def _locked(self, kind: str) -> Any:
        assert self._lock is not None
        async with self._lock:
            template, params = self._statement(kind)
            for attempt in (1, 2):
                fresh = self._conn is None
                try:
                    if self._conn is None:
                        self._conn = await self.connector.connect(self.application_name,
                                                                  self.timeout)
                    return await self._conn.fetchval(template, params)
                except asyncio.CancelledError:
                    # the timeout: the statement is abandoned, and its connection
                    self._drop()
                    raise
                except Exception as exc:
                    err = self._translate(exc, "read the verdict")
                    if isinstance(err, errors.DatabaseUnavailable):
                        self._drop()
                        if attempt == 1 and not fresh:
                            continue
                    raise err from None
            raise AssertionError("unreachable")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            _quietly(conn.terminate)


def _quietly(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        pass
