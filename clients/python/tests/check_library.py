"""The package against a real preloaded server, no mocks (test/t/043_python.pl
runs it from a virtualenv the package was pip-installed into).

    python check_library.py --host /tmp/sock --port 5432 --unloaded-port 5433

The database side is made by the test: roles lib_svc (reporter of component
"lib"), sp_svc (reporter of "sp", with a hostile search_path), other (no
rights), database noext (without the extension); the server on
--unloaded-port has the extension without the library preloaded.

Each check prints "ok - ..." or "not ok - ...: why"; the exit status is 0
when every one passed.
"""
from __future__ import annotations

import argparse
import getpass
import json
import asyncio
import sys
import threading
import time
import traceback
from typing import Any, Callable, List

import pg_health
from pg_health import errors

RESULTS: List[bool] = []


def check(description: str, condition: bool, why: Any = "") -> bool:
    RESULTS.append(bool(condition))
    if condition:
        print("ok - %s" % description, flush=True)
    else:
        print("not ok - %s: %s" % (description, why), flush=True)
    return bool(condition)


def run(description: str, fn: Callable[[], Any]) -> None:
    """A group of checks; an exception fails it with its traceback."""
    try:
        fn()
    except Exception:
        check(description, False, traceback.format_exc().replace("\n", " | "))


class Server:
    def __init__(self, host: str, port: int, superuser: str) -> None:
        self.host, self.port, self.superuser = host, port, superuser

    def dsn(self, user: str, dbname: str = "postgres") -> str:
        return "host=%s port=%d dbname=%s user=%s" % (self.host, self.port, dbname, user)

    def uri(self, user: str, dbname: str = "postgres", driver: str = "") -> str:
        scheme = "postgresql+" + driver if driver else "postgresql"
        return "%s://%s@/%s?host=%s&port=%d" % (scheme, user, dbname, self.host, self.port)

    def sql(self, query: str, *params: Any) -> Any:
        import psycopg

        with psycopg.connect(self.dsn(self.superuser), autocommit=True) as conn:
            rows = conn.execute(query, params).fetchall()
            return rows

    def component(self, name: str) -> Any:
        self.sql("SELECT health.refresh()")
        rows = self.sql("SELECT state, detail, pool_in_use, pool_idle, "
                        "pool_waiting, pool_max_size, "
                        "extract(epoch FROM pool_longest_wait)::float8 "
                        "FROM health.components WHERE name = %s", name)
        return rows[0] if rows else None

    def our_connections(self) -> int:
        return self.sql("SELECT count(*) FROM pg_catalog.pg_stat_activity "
                        "WHERE application_name LIKE '%%pg_health%%'")[0][0]


def wait_until(fn: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.1)
    return fn()


def our_threads() -> List[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("pg_health")]


def lifecycle(s: Server) -> None:
    c = pg_health.Component("lib", s.dsn("lib_svc"), heartbeat_interval=0.3)
    check("start() reports starting", c.start("loading the configuration") is True)
    check("... the database has it", s.component("lib")[:2] == ("starting", "loading the configuration"),
          s.component("lib"))
    try:
        with c.starting("migrations"):
            raise RuntimeError('migration 42 failed: relation "orders" is locked')
    except RuntimeError:
        pass
    state, detail = s.component("lib")[:2]
    check("an exception inside starting() reports failed with its message",
          state == "failed" and detail == 'migrations: RuntimeError: migration 42 failed: '
          'relation "orders" is locked', (state, detail))
    check("ready() reports ready", c.ready() is True and s.component("lib")[0] == "ready")
    long_detail = "é" * 300
    check("a detail over 199 bytes is cut, not refused", c.degraded(long_detail) is True)
    stored = s.component("lib")[1]
    check("... to at most 199 bytes of UTF-8", stored is not None and len(stored.encode()) <= 199
          and stored.endswith("..."), stored)
    c.ready()
    before = s.sql("SELECT last_heartbeat FROM health.components WHERE name = 'lib'")[0][0]
    check("the worker heartbeats by itself",
          wait_until(lambda: s.sql("SELECT last_heartbeat FROM health.components "
                                   "WHERE name = 'lib'")[0][0] > before, 5))
    check("its connection is its own, named for pg_health", s.our_connections() == 1,
          s.our_connections())
    try:
        pg_health.Component("Not A Name", s.dsn("lib_svc"))
        check("a bad component name is refused before anything is sent", False, "no error")
    except errors.InvalidArgument as err:
        check("a bad component name is refused before anything is sent", "lower-case" in str(err), err)
    c.stop("shutting down")
    check("stop() reports stopped", s.component("lib")[:2] == ("stopped", "shutting down"),
          s.component("lib"))
    check("... ends its thread", our_threads() == [], our_threads())
    check("... and closes its connection", wait_until(lambda: s.our_connections() == 0, 5),
          s.our_connections())
    check("stop() twice is harmless", c.stop() is False)


def not_authorized(s: Server) -> None:
    c = pg_health.Component("lib", s.dsn("other"), timeout=3)
    try:
        c.start()
        check("a role that is not the reporter: NotAuthorized", False, "no error")
    except errors.NotAuthorized as err:
        check("a role that is not the reporter: NotAuthorized (42501), saying what to do",
              err.sqlstate == "42501" and "reporter" in (err.hint or "")
              and "configure_component('lib'" in (err.hint or ""), err)
    finally:
        c.close()
    r = pg_health.Readiness(s.dsn("other"))
    answer = r.ready()
    check("a role without the right to health.report(): ready() answers from health.ready()",
          answer.status == 200 and answer.body["reasons"] is None
          and "GRANT pg_monitor" in answer.body["note"], answer)
    answer = r.report()
    check("... and report() is 503 NotAuthorized with the GRANT to run",
          answer.status == 503 and answer.body["error"]["error"] == "NotAuthorized"
          and "GRANT pg_monitor" in answer.body["error"]["hint"], answer)
    r.close()


def extension_missing(s: Server) -> None:
    r = pg_health.Readiness(s.dsn("lib_svc", "noext"))
    answer = r.ready()
    err = answer.body.get("error") or {}
    check("no extension in the database: 503 with ExtensionMissing (3F000) and CREATE EXTENSION",
          answer.status == 503 and err.get("error") == "ExtensionMissing" and err.get("sqlstate") == "3F000"
          and "CREATE EXTENSION pg_health" in (err.get("hint") or ""), answer)
    r.close()
    c = pg_health.Component("lib", s.dsn("lib_svc", "noext"), timeout=3)
    try:
        c.start()
        check("... and a component there raises ExtensionMissing", False, "no error")
    except errors.ExtensionMissing as e:
        check("... and a component there raises ExtensionMissing", e.sqlstate == "3F000", e)
    finally:
        c.close()


def not_preloaded(unloaded: Server) -> None:
    r = pg_health.Readiness(unloaded.dsn(unloaded.superuser))
    answer = r.ready()
    err = answer.body.get("error") or {}
    check("a server without the library preloaded: 503 NotPreloaded (55000), saying where",
          answer.status == 503 and err.get("error") == "NotPreloaded" and err.get("sqlstate") == "55000"
          and "shared_preload_libraries" in (err.get("hint") or ""), answer)
    r.close()


def database_down() -> None:
    r = pg_health.Readiness("host=/nonexistent port=1 dbname=x user=x", timeout=2)
    t0 = time.monotonic()
    answer = r.ready()
    took = time.monotonic() - t0
    check("no server: 503 DatabaseUnavailable, not an exception",
          answer.status == 503 and answer.body["error"]["error"] == "DatabaseUnavailable"
          and answer.body["status"] == "unknown", answer)
    check("... within the timeout (%.2f s)" % took, took < 2.5)
    r.close()
    c = pg_health.Component("lib", "host=/nonexistent port=1 dbname=x user=x", timeout=2,
                            retry_interval=0.2)
    check("a component whose database is down: start() returns False, it does not raise",
          c.start("waiting") is False and isinstance(c.last_error, errors.DatabaseUnavailable),
          c.last_error)
    c.close()
    check("... and close() ends its thread", our_threads() == [], our_threads())


def search_path(s: Server) -> None:
    # the role's search_path puts hostile objects before pg_catalog: a
    # domain "text" over integer, a make_interval() that raises
    try:
        import psycopg

        with psycopg.connect(s.dsn("sp_svc"), autocommit=True) as conn:
            try:
                conn.execute("SELECT 'x'::text, make_interval(secs => 1)")
                check("the hostile search_path is in force (control)", False, "unqualified SQL worked")
            except psycopg.Error as e:
                check("the hostile search_path is in force (control)", True, e)
    except Exception as e:
        check("the hostile search_path is in force (control)", False, e)
    import psycopg_pool

    pool = psycopg_pool.ConnectionPool(s.dsn("lib_svc"), min_size=1, max_size=1, open=True)
    c = pg_health.Component("sp", s.dsn("sp_svc"), pool_interval=0.2)
    c.watch_pool(pool)
    ok = c.start() and c.ready()
    check("with that search_path, the component reports (every name qualified)", ok, c.last_error)
    check("... and its pool too", wait_until(lambda: (s.component("sp") or [None] * 6)[5] == 1, 5),
          s.component("sp"))
    r = pg_health.Readiness(s.dsn("sp_svc"))
    answer = r.ready()
    check("... and the readiness route reads the report", answer.status in (200, 503)
          and "error" not in answer.body, answer)
    r.close()
    c.stop()
    pool.close()


def sync_pools(s: Server) -> None:
    import psycopg_pool

    pool = psycopg_pool.ConnectionPool(s.dsn("lib_svc"), min_size=1, max_size=2, open=True,
                                       kwargs={"application_name": "lib-app"})
    original = pool.getconn
    c = pg_health.Component("lib", s.dsn("lib_svc"), pool_interval=0.2)
    c.watch_pool(pool)
    c.ready()

    def hold() -> None:
        with pool.connection() as conn:
            conn.execute("SELECT pg_catalog.pg_sleep(1.2)")

    threads = [threading.Thread(target=hold) for _ in range(4)]
    for t in threads:
        t.start()
    seen = wait_until(lambda: (lambda r: r is not None and r[2] == 2 and (r[4] or 0) >= 1
                               and (r[6] or 0) > 0.3)(s.component("lib")), 5)
    check("psycopg_pool, exhausted: 2 in use, waiting, the longest wait measured",
          seen, s.component("lib"))
    for t in threads:
        t.join()
    check("... and nobody waiting once it is served",
          wait_until(lambda: (s.component("lib") or [None] * 5)[4] == 0, 5), s.component("lib"))
    c.stop()
    check("... stop() puts getconn back", pool.getconn == original and "getconn" not in pool.__dict__)
    pool.close()

    import sqlalchemy

    url = s.uri("lib_svc", driver="psycopg" if sqlalchemy.__version__ >= "2" else "psycopg2")
    engine = sqlalchemy.create_engine(url, pool_size=1, max_overflow=1, pool_timeout=30)
    c = pg_health.Component("lib", engine, pool_interval=0.2)
    c.watch_pool(engine)
    c.ready()

    def hold_sa() -> None:
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("SELECT pg_catalog.pg_sleep(1.2)"))

    threads = [threading.Thread(target=hold_sa) for _ in range(4)]
    for t in threads:
        t.start()
    seen = wait_until(lambda: (lambda r: r is not None and r[2] == 2 and r[5] == 2
                               and (r[4] or 0) >= 1 and (r[6] or 0) > 0.3)(s.component("lib")), 5)
    check("SQLAlchemy %s engine (QueuePool 1 + 1 overflow), exhausted: 2 of 2 in use, waits measured"
          % sqlalchemy.__version__, seen, s.component("lib"))
    for t in threads:
        t.join()
    c.stop()
    check("... stop() puts Pool.connect back", "connect" not in engine.pool.__dict__)
    engine.dispose()
    check("every thread of these components ended", our_threads() == [], our_threads())


async def async_checks(s: Server) -> None:
    import asyncpg

    # asyncpg's own pool
    pool = await asyncpg.create_pool(s.uri("lib_svc"), min_size=1, max_size=2)
    cls = type(pool)
    c = pg_health.AsyncComponent("lib", s.uri("lib_svc"), driver="asyncpg", pool_interval=0.2)
    c.watch_pool(pool)
    await c.start("async start")
    await c.ready()

    async def hold() -> None:
        async with pool.acquire() as conn:
            await conn.execute("SELECT pg_catalog.pg_sleep(1.2)")

    async def shortcut() -> None:
        await pool.fetchval("SELECT pg_catalog.pg_sleep(1.2)")

    tasks = [asyncio.ensure_future(hold()) for _ in range(2)] + \
        [asyncio.ensure_future(shortcut()) for _ in range(2)]
    deadline = time.monotonic() + 5
    row = None
    while time.monotonic() < deadline:
        row = await asyncio.get_running_loop().run_in_executor(None, s.component, "lib")
        if row and row[2] == 2 and (row[4] or 0) >= 1 and (row[6] or 0) > 0.3:
            break
        await asyncio.sleep(0.1)
    check("asyncpg pool, exhausted (acquire() and pool.fetchval()): waits measured",
          row is not None and row[2] == 2 and (row[4] or 0) >= 1 and (row[6] or 0) > 0.3, row)
    await asyncio.gather(*tasks)
    await c.stop()
    check("... stop() gives the pool its class back", type(pool) is cls and type(pool).__name__ == "Pool")
    await pool.close()

    # a psycopg AsyncConnectionPool, reported over psycopg's asyncio connection
    import psycopg_pool

    apool = psycopg_pool.AsyncConnectionPool(s.dsn("lib_svc"), min_size=1, max_size=1, open=False)
    await apool.open()
    c = pg_health.AsyncComponent("lib", s.dsn("lib_svc"), driver="psycopg", pool_interval=0.2)
    c.watch_pool(apool)
    await c.ready()

    async def hold_p() -> None:
        async with apool.connection() as conn:
            await conn.execute("SELECT pg_catalog.pg_sleep(1.2)")

    tasks = [asyncio.ensure_future(hold_p()) for _ in range(3)]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        row = await asyncio.get_running_loop().run_in_executor(None, s.component, "lib")
        if row and row[2] == 1 and (row[4] or 0) >= 1 and (row[6] or 0) > 0.3:
            break
        await asyncio.sleep(0.1)
    check("psycopg AsyncConnectionPool, exhausted: waits measured",
          row is not None and row[2] == 1 and (row[4] or 0) >= 1, row)
    await asyncio.gather(*tasks)
    await c.stop()
    await apool.close()

    # not authorized, asynchronously
    c = pg_health.AsyncComponent("lib", s.uri("other"), driver="asyncpg", timeout=3)
    try:
        await c.start()
        check("asyncpg, not the reporter: NotAuthorized", False, "no error")
    except errors.NotAuthorized as err:
        check("asyncpg, not the reporter: NotAuthorized (42501)", err.sqlstate == "42501", err)
    await c.close()
    # Starlette's routes, through its ASGI interface (no server, no client
    # library): the asyncio readiness, and the blocking one in its thread pool
    from starlette.applications import Starlette

    import pg_health.starlette as ph_starlette

    aready = pg_health.AsyncReadiness(s.uri("lib_svc"), driver="asyncpg")
    sready = pg_health.Readiness(s.dsn("lib_svc"))
    app = Starlette(routes=[*ph_starlette.routes(aready),
                            *ph_starlette.routes(sready, prefix="/sync/health")])
    for path in ("/health/ready", "/sync/health/ready", "/health", "/sync/health"):
        status, body = await asgi(app, "GET", path)
        doc = json.loads(body)
        check("starlette: GET %s answers 200 or 503 with the verdict" % path,
              status in (200, 503) and "ready" in doc and "error" not in doc, (status, body[:200]))
    status, body = await asgi(app, "GET", "/health/live")
    check("starlette: GET /health/live 200", status == 200 and b'"live": true' in body, (status, body))
    status, _ = await asgi(app, "POST", "/health/ready")
    check("starlette: POST 405", status == 405, status)
    await aready.close()
    sready.close()

    others = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    check("every task of these components ended", others == [], others)


async def asgi(app: Any, method: str, path: str) -> "tuple[int, bytes]":
    """One request through an ASGI application's own interface."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"host", b"test")], "server": ("test", 80),
             "client": ("127.0.0.1", 1)}
    sent: List[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--unloaded-port", type=int, required=True)
    p.add_argument("--superuser", default=getpass.getuser())
    args = p.parse_args()
    s = Server(args.host, args.port, args.superuser)
    run("life cycle", lambda: lifecycle(s))
    run("not authorized", lambda: not_authorized(s))
    run("extension missing", lambda: extension_missing(s))
    run("not preloaded", lambda: not_preloaded(Server(args.host, args.unloaded_port, args.superuser)))
    run("database down", database_down)
    run("search_path", lambda: search_path(s))
    run("pools", lambda: sync_pools(s))
    run("asyncio", lambda: asyncio.run(async_checks(s)))
    run("connections closed",
        lambda: check("no connection of the package is left open",
                      wait_until(lambda: s.our_connections() == 0, 5), s.our_connections()))
    print("%d checks, %d failed" % (len(RESULTS), RESULTS.count(False)), flush=True)
    return 0 if RESULTS and all(RESULTS) else 1


if __name__ == "__main__":
    sys.exit(main())
