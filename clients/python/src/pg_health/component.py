"""A component: the application reporting its own life cycle into the verdict.

``Component`` (threads, blocking drivers) and ``AsyncComponent`` (asyncio)
do the same:

* every report goes over a connection of the component's own, opened and
  used by one background worker (a thread, or a task), never one from the
  application's pool: an exhausted pool is exactly when the report matters;
* the worker heartbeats every ``heartbeat_interval`` seconds (or reports the
  watched pool every ``pool_interval``, which is a heartbeat too), so a hung
  process turns ``lost`` after its TTL;
* the state is the application's, kept here: after a lost connection or a
  server restart (which forgets every component) the worker reports it again
  on its next connection, without the application doing anything;
* ``stop()`` reports ``stopped``, ends the worker and closes the connection.

States are health.set_component_state()'s: ``starting``, ``ready``,
``degraded``, ``failed`` and ``stopped``.
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import logging
import os
import re
import select
import signal
import threading
import time
from typing import Any, AsyncIterator, Callable, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

from . import _sql, errors, pools
from .drivers import AsyncConnection, AsyncConnector, SyncConnection, SyncConnector, \
    async_connector, sync_connector

__all__ = ["Component", "AsyncComponent", "STATES", "clip_detail", "failure_detail"]

log = logging.getLogger("pg_health")

STATES = ("starting", "ready", "degraded", "failed", "stopped")
_NAME = re.compile(r"^[a-z0-9_.-]{1,63}$")
DETAIL_MAX_BYTES = 199


def clip_detail(detail: Optional[str]) -> Optional[str]:
    """A detail the server takes: no NUL, at most 199 bytes of UTF-8 (cut with '...')."""
    if detail is None:
        return None
    text = str(detail).replace("\x00", "")
    data = text.encode("utf-8")
    if len(data) <= DETAIL_MAX_BYTES:
        return text
    return data[:DETAIL_MAX_BYTES - 3].decode("utf-8", "ignore") + "..."


def failure_detail(step: Optional[str], exc: BaseException) -> str:
    """'<step>: <ExceptionType>: <its message>', clipped."""
    message = str(exc).strip().replace("\n", " ") or "(no message)"
    text = "%s: %s" % (type(exc).__name__, message)
    return clip_detail("%s: %s" % (step, text) if step else text) or text


def _check(name: str, state: Optional[str] = None) -> None:
    if not _NAME.match(name or ""):
        raise errors.InvalidArgument(
            "invalid component name %r" % (name,),
            hint="1 to 63 bytes of lower-case letters, digits, '_', '.' and '-'")
    if state is not None and state not in STATES:
        raise errors.InvalidArgument("unknown component state %r" % (state,),
                                     hint="one of " + ", ".join(STATES))


class _Request:
    """A state for the worker to deliver; the caller polls ``done``."""

    __slots__ = ("state", "detail", "final", "done", "delivered", "error")

    def __init__(self, state: str, detail: Optional[str], final: bool = False) -> None:
        self.state = state
        self.detail = detail
        self.final = final
        self.done = False
        self.delivered = False
        self.error: Optional[errors.PgHealthError] = None


class _Base:
    """What both kinds share: the name, the desired state, the pool, the timings."""

    def __init__(self, name: str, *, heartbeat_interval: float, pool_interval: float,
                 timeout: float, retry_interval: float, application_name: Optional[str]) -> None:
        _check(name)
        if heartbeat_interval <= 0 or pool_interval <= 0 or timeout <= 0 or retry_interval <= 0:
            raise ValueError("intervals and timeouts must be positive")
        self.name = name
        self.heartbeat_interval = float(heartbeat_interval)
        self.pool_interval = float(pool_interval)
        self.timeout = float(timeout)
        self.retry_interval = float(retry_interval)
        # not the application's pool_application_name: pg_health would count
        # this connection as one of the pool's
        self.application_name = (application_name or (name + " pg_health"))[:63]
        #: the state the application last asked for, and its detail
        self.state: Optional[str] = None
        self.detail: Optional[str] = None
        #: whether that state has reached the database
        self.delivered = False
        #: the last error from the database (None once a report succeeds)
        self.last_error: Optional[errors.PgHealthError] = None
        self._pool: Optional[pools.PoolWatch] = None
        self._paused = False
        self._outage_logged = False
        # worker-side: the state to deliver, whether it must be sent, the
        # state the database has from this connection, a pool report owed
        self._want: Optional[Tuple[str, Optional[str]]] = None
        self._dirty = False
        self._sent_state: Optional[str] = None
        self._pool_due = False
        self._next_beat = 0.0

    def describe(self) -> Dict[str, Any]:
        """The component as this process sees it (for a liveness route)."""
        return {
            "name": self.name,
            "state": self.state,
            "detail": self.detail,
            "delivered": self.delivered,
            "error": self.last_error.as_dict() if self.last_error else None,
        }

    def pause(self) -> None:
        """Stop heartbeating (and reporting the pool) as a hung process would,
        without reporting anything: after its TTL the component is ``lost``.
        States the application reports are still delivered.  For drills."""
        self._paused = True

    def resume(self) -> None:
        """Heartbeat again after :meth:`pause`."""
        self._paused = False

    def _interval(self) -> float:
        return self.pool_interval if self._pool is not None else self.heartbeat_interval

    def _take(self, req: _Request) -> None:
        self._want = (req.state, req.detail)
        self._dirty = True

    def _next_statement(self, fresh: bool) -> Optional[Tuple[str, Sequence[Any]]]:
        """The statement the worker runs now, or None."""
        if self._want is None:
            return None
        if fresh:
            self._dirty = True
            self._sent_state = None
        pool = self._pool
        live = self._sent_state not in (None, "stopped")
        # the pool right after each state it accompanies, before the next one
        if pool is not None and live and self._pool_due:
            return self._pool_statement(pool)
        if self._dirty:
            state, detail = self._want
            return _sql.SET_STATE, (self.name, state, detail)
        if self._paused or time.monotonic() < self._next_beat:
            return None
        if pool is not None and live:
            return self._pool_statement(pool)
        return _sql.HEARTBEAT, (self.name,)

    def _pool_statement(self, pool: pools.PoolWatch) -> Tuple[str, Sequence[Any]]:
        s = pool.stats()
        return _sql.REPORT_POOL, (self.name, s.in_use, s.idle, s.waiting, s.max_size,
                                  float(s.longest_wait))

    def _succeeded(self, template: str, params: Sequence[Any], reqs: List[_Request]) -> None:
        if template == _sql.SET_STATE:
            self._dirty = False
            self._sent_state = params[1]
            self._pool_due = self._pool is not None
            self.delivered = (params[1], params[2]) == (self.state, self.detail)
            # the state sent is the latest asked for: every request waiting has it
            for r in reqs:
                r.delivered = True
                r.done = True
            reqs.clear()
        elif template == _sql.REPORT_POOL:
            self._pool_due = False
        self._next_beat = time.monotonic() + self._interval()
        self.last_error = None
        if self._outage_logged:
            log.warning("component %s: reporting to the database again", self.name)
            self._outage_logged = False

    def _failed(self, exc: BaseException, reqs: List[_Request]) -> Tuple[bool, float]:
        """Record a failure; (drop the connection?, seconds before the next try)."""
        err = errors.translate(exc, doing="report for component %s" % self.name,
                               component=self.name)
        if err is None:
            err = errors.PgHealthError("%s: %s" % (type(exc).__name__, exc))
        if isinstance(err, errors.ComponentNotReported):
            # forgotten (a restart, drop_component): report the state again at once
            self._dirty = True
            return False, 0.0
        self.last_error = err
        transient = isinstance(err, errors.DatabaseUnavailable)
        if not self._outage_logged:
            log.warning("component %s: cannot report to the database (retrying every %g s): %s",
                        self.name, self.retry_interval if transient else self._interval(), err)
            self._outage_logged = True
        for r in reqs:
            if not transient:
                r.error = err
            r.done = True
        reqs.clear()
        return transient, (self.retry_interval if transient else self._interval())


class Component(_Base):
    """A component reported from a thread over a blocking connection
    (psycopg 3, else psycopg2).

    ``database`` is a conninfo or URI, an SQLAlchemy engine, or a connector
    (:mod:`pg_health.drivers`).  Report methods wait up to ``timeout`` for
    the database and return whether the state reached it; a state that did
    not is delivered by the worker as soon as the database answers.  Errors
    that retrying cannot fix (not the component's reporter, no extension)
    are raised.

        component = Component("backend", "host=/run/postgresql dbname=app user=svc")
        with component.starting("running migrations"):
            migrate()
        component.ready()
        component.stop_on_exit()
    """

    def __init__(self, name: str, database: Any, *, heartbeat_interval: float = 5.0,
                 pool_interval: float = 1.0, timeout: float = 5.0, retry_interval: float = 1.0,
                 application_name: Optional[str] = None, driver: Optional[str] = None,
                 connect_args: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(name, heartbeat_interval=heartbeat_interval, pool_interval=pool_interval,
                         timeout=timeout, retry_interval=retry_interval,
                         application_name=application_name)
        self.connector: SyncConnector = sync_connector(database, driver=driver,
                                                       connect_args=connect_args)
        # requests to the worker: a deque (appends are atomic) and a pipe to
        # wake it (a write is atomic): neither takes a lock, so a signal
        # handler may report while the interrupted code was reporting too
        self._requests: Deque[_Request] = collections.deque()
        self._thread: Optional[threading.Thread] = None
        self._pipe: Optional[Tuple[int, int]] = None
        self._conn: Optional[SyncConnection] = None
        self._stopped = False
        self._signals: Dict[int, Any] = {}
        self._atexit = False
        self._start_lock = threading.RLock()   # a signal handler may stop() inside report()

    # ------------------------------------------------------------ life cycle

    def start(self, detail: Optional[str] = None) -> bool:
        """Start the worker and report ``starting`` (with ``detail``)."""
        return self.report("starting", detail)

    @contextlib.contextmanager
    def starting(self, detail: Optional[str] = None) -> Iterator["Component"]:
        """Report ``starting`` with ``detail`` for a step of the start-up; an
        exception inside reports ``failed`` with its message, and goes on."""
        self.report("starting", detail)
        try:
            yield self
        except Exception as exc:
            self._report_failure(detail, exc)
            raise

    def ready(self, detail: Optional[str] = None) -> bool:
        return self.report("ready", detail)

    def degraded(self, detail: Optional[str] = None) -> bool:
        return self.report("degraded", detail)

    def failed(self, detail: "Optional[str] | BaseException" = None) -> bool:
        """Report ``failed``; given an exception, with its type and message."""
        if isinstance(detail, BaseException):
            detail = failure_detail(None, detail)
        return self.report("failed", detail)

    def stop(self, detail: Optional[str] = None, *, report: bool = True) -> bool:
        """Report ``stopped`` (unless ``report=False``), end the worker, close its
        connection, and put a watched pool back as it was.  Idempotent."""
        with self._start_lock:
            if self._stopped:
                return False
            self._stopped = True
        self._restore_signals()
        if self._atexit:
            atexit.unregister(self._at_exit)
            self._atexit = False
        delivered = False
        if self._thread is not None:
            req = _Request("stopped", clip_detail(detail), final=True)
            if report:
                self.state, self.detail, self.delivered = "stopped", req.detail, False
            else:
                req.state = ""
            delivered = self._submit(req, raise_error=False)
            self._thread.join(self.timeout)
            if not self._thread.is_alive():
                self._close_pipe()
            else:
                log.warning("component %s: its worker is still waiting for the database "
                            "after %g s; leaving it", self.name, self.timeout)
                conn = self._conn
                if conn is not None:
                    threading.Thread(target=_quietly, args=(conn.cancel,), daemon=True).start()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        return delivered

    def close(self) -> None:
        """End the worker and close its connection without reporting ``stopped``."""
        self.stop(report=False)

    def __enter__(self) -> "Component":
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if isinstance(exc, Exception):
            self._report_failure(None, exc)
            self.close()
        else:
            self.stop()

    def report(self, state: str, detail: Optional[str] = None) -> bool:
        """Report ``state``; True once the database has it, False when the
        database could not be reached within ``timeout`` (the worker delivers
        it later).  Raises the errors retrying cannot fix."""
        _check(self.name, state)
        if state == "stopped":
            return self.stop(detail)
        req = _Request(state, clip_detail(detail))
        with self._start_lock:
            if self._stopped:
                raise errors.PgHealthError("component %s is stopped" % self.name,
                                           hint="make a new Component to report again")
            self._ensure_worker()
        self.state, self.detail, self.delivered = state, req.detail, False
        return self._submit(req, raise_error=True)

    def watch_pool(self, pool: Any, *, max_size: Optional[int] = None) -> pools.PoolWatch:
        """Report ``pool`` (psycopg_pool ``ConnectionPool``, an SQLAlchemy engine
        or ``QueuePool``) every ``pool_interval`` with health.report_pool()."""
        if self._pool is not None:
            raise ValueError("component %s already reports a pool" % self.name)
        self._pool = pools.watch(pool, max_size=max_size)
        return self._pool

    def stop_on_exit(self, signals: Sequence[int] = (signal.SIGTERM,)) -> None:
        """Report ``stopped`` when the interpreter exits (atexit) and on each of
        ``signals``, then let the signal do what it did before (by default
        SIGTERM ends the process).  Signal handlers can only be installed from
        the main thread; elsewhere only the atexit part is."""
        if not self._atexit:
            atexit.register(self._at_exit)
            self._atexit = True
        for sig in signals:
            if sig in self._signals:
                continue
            try:
                self._signals[sig] = signal.signal(sig, self._on_signal)
            except ValueError:
                log.warning("component %s: not the main thread, so no handler for signal %d: "
                            "call stop() from the application's own shutdown", self.name, sig)

    # --------------------------------------------------------------- inside

    def _report_failure(self, step: Optional[str], exc: BaseException) -> None:
        try:
            self.report("failed", failure_detail(step, exc))
        except errors.PgHealthError as err:
            log.warning("component %s: could not report its failure: %s", self.name, err)

    def _at_exit(self) -> None:
        self.stop("the process exited")

    def _on_signal(self, signum: int, frame: Any) -> None:
        previous = self._signals.get(signum, signal.SIG_DFL)
        self.stop("signal %s" % signal.Signals(signum).name)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)

    def _restore_signals(self) -> None:
        for sig, previous in list(self._signals.items()):
            try:
                if signal.getsignal(sig) == self._on_signal:
                    signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
            except ValueError:
                pass
        self._signals.clear()

    def _ensure_worker(self) -> None:
        if self._thread is not None:
            return
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        self._pipe = (r, w)
        self._thread = threading.Thread(target=self._run, name="pg_health component %s" % self.name,
                                        daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        pipe = self._pipe
        if pipe is None:
            return
        try:
            os.write(pipe[1], b"\0")
        except (BlockingIOError, OSError):
            pass

    def _close_pipe(self) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            for fd in pipe:
                _quietly(os.close, fd)

    def _submit(self, req: _Request, *, raise_error: bool) -> bool:
        self._requests.append(req)
        self._wake()
        deadline = time.monotonic() + self.timeout
        # polled, not waited on a lock: safe from a signal handler
        while not req.done and time.monotonic() < deadline:
            time.sleep(0.005)
        if req.error is not None and raise_error:
            raise req.error
        return req.delivered

    def _run(self) -> None:
        pending: List[_Request] = []
        final = False
        conn: Optional[SyncConnection] = None
        retry_at = 0.0
        try:
            while True:
                while self._requests:
                    req = self._requests.popleft()
                    pending.append(req)
                    if req.final:
                        final = True
                        retry_at = 0.0        # try at once, once
                        if not req.state:     # close without a report
                            return
                    self._take(req)
                if final and not pending:
                    return
                wait = self._interval()
                if time.monotonic() >= retry_at:
                    try:
                        fresh = False
                        if conn is None and self._want is not None:
                            conn = self.connector.connect(self.application_name, self.timeout)
                            self._conn = conn
                            fresh = True
                        statement = self._next_statement(fresh) if conn is not None else None
                        if statement is not None:
                            assert conn is not None
                            conn.fetchval(*statement)
                            self._succeeded(statement[0], statement[1], pending)
                            continue          # another may be due at once
                    except Exception as exc:   # translated; unknown ones logged
                        drop, wait = self._failed(exc, pending)
                        retry_at = time.monotonic() + wait
                        if drop and conn is not None:
                            _quietly(conn.close)
                            conn = self._conn = None
                        if final:
                            for r in pending:
                                r.done = True
                            return
                        if wait == 0:
                            continue
                    if self._want is not None and not self._paused:
                        wait = max(0.0, min(wait, self._next_beat - time.monotonic()))
                else:
                    wait = retry_at - time.monotonic()
                self._sleep(max(wait, 0.0))
        finally:
            if conn is not None:
                _quietly(conn.close)
            self._conn = None
            for r in pending:
                r.done = True

    def _sleep(self, seconds: float) -> None:
        pipe = self._pipe
        if pipe is None:
            time.sleep(seconds)
            return
        try:
            ready, _, _ = select.select([pipe[0]], [], [], seconds)
        except (OSError, ValueError):
            return
        if ready:
            try:
                while os.read(pipe[0], 4096):
                    pass
            except (BlockingIOError, OSError):
                pass


class AsyncComponent(_Base):
    """A component reported from an asyncio task over a connection of its own
    (asyncpg or psycopg 3).

    ``database`` is a conninfo or URI, an SQLAlchemy ``AsyncEngine``, or a
    connector (:mod:`pg_health.drivers`).  The methods are coroutines; the
    component is an async context manager (``starting`` on enter,
    ``stopped`` on exit, ``failed`` with the message on an exception), which
    is what a FastAPI lifespan wants:

        component = AsyncComponent("api", engine)

        @asynccontextmanager
        async def lifespan(app):
            async with component:
                task = asyncio.create_task(initialize())   # reports ready when done
                yield
                task.cancel()
    """

    def __init__(self, name: str, database: Any, *, heartbeat_interval: float = 5.0,
                 pool_interval: float = 1.0, timeout: float = 5.0, retry_interval: float = 1.0,
                 application_name: Optional[str] = None, driver: Optional[str] = None,
                 connect_args: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(name, heartbeat_interval=heartbeat_interval, pool_interval=pool_interval,
                         timeout=timeout, retry_interval=retry_interval,
                         application_name=application_name)
        self.connector: AsyncConnector = async_connector(database, driver=driver,
                                                         connect_args=connect_args)
        self._requests: List[Tuple[_Request, "asyncio.Future[bool]"]] = []
        self._wake_event: Optional[asyncio.Event] = None
        self._task: Optional["asyncio.Task[None]"] = None
        self._conn: Optional[AsyncConnection] = None
        self._stopped = False

    async def start(self, detail: Optional[str] = None) -> bool:
        """Start the worker task and report ``starting`` (with ``detail``)."""
        return await self.report("starting", detail)

    @contextlib.asynccontextmanager
    async def starting(self, detail: Optional[str] = None) -> AsyncIterator["AsyncComponent"]:
        """Report ``starting`` with ``detail``; an exception inside reports
        ``failed`` with its message, and goes on."""
        await self.report("starting", detail)
        try:
            yield self
        except Exception as exc:
            await self._report_failure(detail, exc)
            raise

    async def ready(self, detail: Optional[str] = None) -> bool:
        return await self.report("ready", detail)

    async def degraded(self, detail: Optional[str] = None) -> bool:
        return await self.report("degraded", detail)

    async def failed(self, detail: "Optional[str] | BaseException" = None) -> bool:
        if isinstance(detail, BaseException):
            detail = failure_detail(None, detail)
        return await self.report("failed", detail)

    async def stop(self, detail: Optional[str] = None, *, report: bool = True) -> bool:
        """Report ``stopped`` (unless ``report=False``), end the task, close its
        connection, put a watched pool back.  Idempotent."""
        if self._stopped:
            return False
        self._stopped = True
        delivered = False
        if self._task is not None:
            req = _Request("stopped" if report else "", clip_detail(detail), final=True)
            if report:
                self.state, self.detail, self.delivered = "stopped", req.detail, False
            delivered = await self._submit(req, raise_error=False)
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.timeout)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                self._task.cancel()
                with contextlib.suppress(BaseException):
                    await self._task
            self._task = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        return delivered

    async def close(self) -> None:
        """End the task and close its connection without reporting ``stopped``."""
        await self.stop(report=False)

    async def __aenter__(self) -> "AsyncComponent":
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if isinstance(exc, Exception):
            await self._report_failure(None, exc)
            await self.close()
        else:
            await self.stop()

    async def report(self, state: str, detail: Optional[str] = None) -> bool:
        """Report ``state``; True once the database has it, False when it could
        not be reached within ``timeout`` (the task delivers it later).
        Raises the errors retrying cannot fix."""
        _check(self.name, state)
        if state == "stopped":
            return await self.stop(detail)
        if self._stopped:
            raise errors.PgHealthError("component %s is stopped" % self.name,
                                       hint="make a new AsyncComponent to report again")
        req = _Request(state, clip_detail(detail))
        self._ensure_task()
        self.state, self.detail, self.delivered = state, req.detail, False
        return await self._submit(req, raise_error=True)

    def watch_pool(self, pool: Any, *, max_size: Optional[int] = None) -> pools.PoolWatch:
        """Report ``pool`` (an asyncpg ``Pool``, psycopg_pool ``AsyncConnectionPool``,
        SQLAlchemy ``AsyncEngine``) every ``pool_interval`` with health.report_pool()."""
        if self._pool is not None:
            raise ValueError("component %s already reports a pool" % self.name)
        self._pool = pools.watch(pool, max_size=max_size)
        return self._pool

    # --------------------------------------------------------------- inside

    async def _report_failure(self, step: Optional[str], exc: BaseException) -> None:
        try:
            await self.report("failed", failure_detail(step, exc))
        except errors.PgHealthError as err:
            log.warning("component %s: could not report its failure: %s", self.name, err)

    def _ensure_task(self) -> None:
        if self._task is not None:
            return
        self._wake_event = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name="pg_health component %s" % self.name)

    async def _submit(self, req: _Request, *, raise_error: bool) -> bool:
        future: "asyncio.Future[bool]" = asyncio.get_running_loop().create_future()
        self._requests.append((req, future))
        assert self._wake_event is not None
        self._wake_event.set()
        try:
            await asyncio.wait_for(asyncio.shield(future), self.timeout)
        except asyncio.TimeoutError:
            pass
        if req.error is not None and raise_error:
            raise req.error
        return req.delivered

    async def _run(self) -> None:
        pending: List[_Request] = []
        futures: List[Tuple[_Request, "asyncio.Future[bool]"]] = []
        final = False
        retry_at = 0.0
        assert self._wake_event is not None
        wake = self._wake_event

        def settle() -> None:
            for r, f in futures:
                if r.done and not f.done():
                    f.set_result(r.delivered)
            futures[:] = [(r, f) for r, f in futures if not f.done()]

        try:
            while True:
                while self._requests:
                    req, fut = self._requests.pop(0)
                    pending.append(req)
                    futures.append((req, fut))
                    if req.final:
                        final = True
                        retry_at = 0.0        # try at once, once
                        if not req.state:     # close without a report
                            return
                    self._take(req)
                if final and not pending:
                    return
                wait = self._interval()
                if time.monotonic() >= retry_at:
                    try:
                        fresh = False
                        if self._conn is None and self._want is not None:
                            self._conn = await self.connector.connect(self.application_name,
                                                                      self.timeout)
                            fresh = True
                        current = self._conn
                        statement = self._next_statement(fresh) if current is not None else None
                        if current is not None and statement is not None:
                            await asyncio.wait_for(current.fetchval(*statement), self.timeout)
                            self._succeeded(statement[0], statement[1], pending)
                            settle()
                            continue
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        drop, wait = self._failed(exc, pending)
                        settle()
                        retry_at = time.monotonic() + wait
                        if drop and self._conn is not None:
                            conn, self._conn = self._conn, None
                            _quietly(conn.terminate)
                        if final:
                            return
                        if wait == 0:
                            continue
                    if self._want is not None and not self._paused:
                        wait = max(0.0, min(wait, self._next_beat - time.monotonic()))
                else:
                    wait = retry_at - time.monotonic()
                wake.clear()
                if not self._requests:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(wake.wait(), max(wait, 0.0))
        finally:
            last, self._conn = self._conn, None
            if last is not None:
                try:
                    await asyncio.wait_for(last.close(), self.timeout)
                except BaseException:
                    _quietly(last.terminate)
            for r in pending:
                r.done = True
            settle()


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception:
        pass
