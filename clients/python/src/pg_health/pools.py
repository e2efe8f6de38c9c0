"""The application's own connection pool, as health.report_pool() takes it.

No pool says how long its current waiters have waited (psycopg_pool counts
waits, asyncpg and SQLAlchemy not even that), so the package times them
itself: it wraps the one method every checkout goes through, on that pool
object only, and keeps the start time of each checkout still in progress.

* psycopg_pool ``ConnectionPool`` / ``AsyncConnectionPool``: ``getconn``
  (``pool.connection()`` calls it);
* asyncpg ``Pool``: ``acquire`` (``async with pool.acquire()``, ``await
  pool.acquire()``, and ``pool.fetch()`` and the other shortcuts);
* SQLAlchemy ``QueuePool`` (and the asyncio one), or the ``Engine`` /
  ``AsyncEngine`` that holds it: ``Pool.connect``, which every
  ``engine.connect()``, ``Session`` and ``AsyncSession`` checkout calls.

A checkout counts as *waiting* once it has been in progress for
``WAITING_AFTER`` seconds (so that one that is served at once is never
reported as a wait), and the longest wait is the age of the oldest checkout
still in progress.  :meth:`PoolWatch.close` puts the pool back as it was.
"""
from __future__ import annotations

import itertools
import threading
import time
from typing import Any, Callable, Dict, NamedTuple, Optional

__all__ = ["PoolStats", "PoolWatch", "watch", "WAITING_AFTER"]

#: seconds a checkout must have been in progress to count as waiting
WAITING_AFTER = 0.05


class PoolStats(NamedTuple):
    """The arguments of health.report_pool() after the component's name."""

    in_use: int
    idle: int
    waiting: int
    max_size: int
    longest_wait: float


class _Waits:
    """The checkouts in progress, by ticket, with the time each began."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: Dict[int, float] = {}
        self._tickets = itertools.count(1)

    def begin(self) -> int:
        ticket = next(self._tickets)
        with self._lock:
            self._since[ticket] = time.monotonic()
        return ticket

    def end(self, ticket: int) -> None:
        with self._lock:
            self._since.pop(ticket, None)

    def now(self) -> "tuple[int, float]":
        """(checkouts waiting, the longest wait in seconds)."""
        now = time.monotonic()
        with self._lock:
            ages = [now - t for t in self._since.values()]
        waiting = sum(1 for a in ages if a >= WAITING_AFTER)
        return waiting, (max(ages) if waiting else 0.0)


class PoolWatch:
    """One watched pool.  ``stats()`` is what to report; ``close()`` unwraps."""

    kind = "?"

    def __init__(self, max_size: Optional[int] = None) -> None:
        self._waits = _Waits()
        self._max_size = max_size

    def stats(self) -> PoolStats:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _stats(self, in_use: int, idle: int, max_size: int) -> PoolStats:
        waiting, longest = self._waits.now()
        in_use, idle = max(in_use, 0), max(idle, 0)
        max_size = self._max_size or max_size
        # health.report_pool() wants in_use + idle <= max_size, max_size >= 1
        max_size = max(max_size, in_use + idle, 1)
        return PoolStats(in_use, idle, waiting, max_size, longest)


# ------------------------------------------------------------- psycopg_pool

class _PsycopgPoolWatch(PoolWatch):
    kind = "psycopg_pool"

    def __init__(self, pool: Any, max_size: Optional[int]) -> None:
        super().__init__(max_size)
        self._pool = pool
        original = pool.getconn
        waits = self._waits
        if _is_coroutine_function(original):
            async def getconn(*args: Any, **kwargs: Any) -> Any:
                ticket = waits.begin()
                try:
                    return await original(*args, **kwargs)
                finally:
                    waits.end(ticket)
        else:
            def getconn(*args: Any, **kwargs: Any) -> Any:  # type: ignore[misc]
                ticket = waits.begin()
                try:
                    return original(*args, **kwargs)
                finally:
                    waits.end(ticket)
        pool.getconn = getconn

    def stats(self) -> PoolStats:
        s = self._pool.get_stats()
        size = s.get("pool_size", 0)
        idle = s.get("pool_available", 0)
        return self._stats(size - idle, idle, self._pool.max_size)

    def close(self) -> None:
        self._pool.__dict__.pop("getconn", None)


# ------------------------------------------------------------------ asyncpg

class _TimedAcquire:
    """asyncpg's acquire context, timed: awaitable and an async context manager."""

    __slots__ = ("_ctx", "_waits")

    def __init__(self, ctx: Any, waits: _Waits) -> None:
        self._ctx = ctx
        self._waits = waits

    async def __aenter__(self) -> Any:
        ticket = self._waits.begin()
        try:
            return await self._ctx.__aenter__()
        finally:
            self._waits.end(ticket)

    async def __aexit__(self, *exc: Any) -> Any:
        return await self._ctx.__aexit__(*exc)

    def __await__(self) -> Any:
        return self._timed().__await__()

    async def _timed(self) -> Any:
        ticket = self._waits.begin()
        try:
            return await self._ctx
        finally:
            self._waits.end(ticket)


class _AsyncpgPoolWatch(PoolWatch):
    kind = "asyncpg"

    def __init__(self, pool: Any, max_size: Optional[int]) -> None:
        super().__init__(max_size)
        self._pool = pool
        self._original_class = type(pool)
        waits = self._waits
        base = self._original_class

        def acquire(self: Any, *, timeout: Optional[float] = None) -> _TimedAcquire:
            return _TimedAcquire(base.acquire(self, timeout=timeout), waits)

        # asyncpg's Pool has __slots__, so the method cannot be set on the
        # object: it gets a class of its own, the same but for acquire (and
        # the shortcuts, pool.fetch() and the others, call self.acquire())
        pool.__class__ = type(base.__name__, (base,), {
            "__slots__": (), "__module__": base.__module__, "acquire": acquire})

    def stats(self) -> PoolStats:
        size = self._pool.get_size()
        idle = self._pool.get_idle_size()
        return self._stats(size - idle, idle, self._pool.get_max_size())

    def close(self) -> None:
        self._pool.__class__ = self._original_class


# --------------------------------------------------------------- SQLAlchemy

class _SQLAlchemyPoolWatch(PoolWatch):
    kind = "sqlalchemy"

    def __init__(self, target: Any, max_size: Optional[int]) -> None:
        super().__init__(max_size)
        # an engine replaces its pool on dispose(): follow it
        self._engine = getattr(target, "sync_engine", target) if hasattr(target, "dialect") or \
            hasattr(target, "sync_engine") else None
        self._pool: Any = None
        self._wrap(self._engine.pool if self._engine is not None else target)

    def _wrap(self, pool: Any) -> None:
        for name in ("checkedout", "checkedin", "size"):
            if not callable(getattr(pool, name, None)):
                raise TypeError("SQLAlchemy's %s has no queue to watch: pg_health reports "
                                "a QueuePool (the default pool of an engine)" % type(pool).__name__)
        if self._pool is not None:
            self._pool.__dict__.pop("connect", None)
        self._pool = pool
        original = pool.connect
        waits = self._waits

        def connect(*args: Any, **kwargs: Any) -> Any:
            ticket = waits.begin()
            try:
                return original(*args, **kwargs)
            finally:
                waits.end(ticket)

        pool.connect = connect

    def stats(self) -> PoolStats:
        if self._engine is not None and self._engine.pool is not self._pool:
            self._wrap(self._engine.pool)
        pool = self._pool
        overflow = getattr(pool, "_max_overflow", 0)
        size = pool.size()
        max_size = size + overflow if overflow >= 0 else 0
        return self._stats(pool.checkedout(), pool.checkedin(), max_size)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.__dict__.pop("connect", None)


def _is_coroutine_function(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def watch(pool: Any, *, max_size: Optional[int] = None) -> PoolWatch:
    """Start timing ``pool``'s checkouts: a psycopg_pool pool, an asyncpg pool,
    or an SQLAlchemy engine (sync or asyncio) or QueuePool.  ``max_size``
    overrides the size the pool says it may reach."""
    module = type(pool).__module__ or ""
    if module.startswith("psycopg_pool"):
        return _PsycopgPoolWatch(pool, max_size)
    if module.startswith("asyncpg"):
        return _AsyncpgPoolWatch(pool, max_size)
    if module.startswith("sqlalchemy"):
        return _SQLAlchemyPoolWatch(pool, max_size)
    raise TypeError("pg_health does not know how to watch %s.%s: it watches psycopg_pool, "
                    "asyncpg and SQLAlchemy pools" % (module, type(pool).__name__))
