#!/usr/bin/env python3
"""A service with its own connection pool, which it reports into the verdict.

The other example (service.py) reports its initialization.  This one shows
the next place "the database is fine but the service is not" begins: the
application's own pool.  It uses psycopg 3 with psycopg_pool (Debian:
python3-psycopg, python3-psycopg-pool) and the pg_health Python package
(clients/python; docs/python.md), installed or else taken from this
checkout:

  * serves /work?seconds=N, which holds a pool connection for N seconds
    (SELECT pg_sleep), so that a few concurrent requests exhaust a small pool;
  * its pg_health.Component watches the pool: the package times every
    checkout (psycopg_pool counts waits, it does not say how long the current
    ones have waited) and, every --report-interval seconds, calls
    health.report_pool() with the connections in use and idle, the requests
    waiting, the pool's max_size and the longest current wait, over a
    connection of its own (never one from the pool: an exhausted pool must
    still be reported);
  * answers /health/ready 200 when the database's verdict is ready and 503
    otherwise, with the reasons, and /health with the whole health.report().
    When requests wait longer than the component's pool_max_wait, its check
    is critical, and the route (like every probe of this server) says so.

    /usr/bin/python3 examples/pool_service.py \\
        --dsn "host=/tmp dbname=postgres user=shop_svc" --component shop \\
        --port 8081 --max-size 4

The database side, once, as a superuser (examples/pool_service.sql;
test/t/024_pool_example.pl runs that same file):

    psql -d postgres -f examples/pool_service.sql
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from psycopg_pool import ConnectionPool

try:
    import pg_health
except ImportError:     # not installed: the package in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "clients", "python", "src"))
    import pg_health


def make_handler(pool, readiness):
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, doc):
            body = (json.dumps(doc) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            routes = {"/health/live": readiness.live, "/health/ready": readiness.ready,
                      "/health": readiness.report}
            if url.path in routes:
                self.reply(*routes[url.path]())
            elif url.path == "/work":
                seconds = float(parse_qs(url.query).get("seconds", ["0.1"])[0])
                with pool.connection() as conn:
                    conn.execute("SELECT pg_catalog.pg_sleep(%s)", (min(max(seconds, 0.0), 10.0),))
                self.reply(200, {"done": True})
            else:
                self.reply(404, {"error": "not found"})

        def log_message(self, *a):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dsn", required=True)
    p.add_argument("--component", default="shop")
    p.add_argument("--port", type=int, default=8081)
    p.add_argument("--max-size", type=int, default=4)
    p.add_argument("--report-interval", type=float, default=0.5)
    args = p.parse_args()

    pool = ConnectionPool(args.dsn, min_size=1, max_size=args.max_size, open=True, timeout=60,
                          kwargs={"application_name": args.component, "autocommit": True})
    component = pg_health.Component(args.component, args.dsn, pool_interval=args.report_interval)
    component.watch_pool(pool)
    readiness = pg_health.Readiness(args.dsn, timeout=3.0, component=component)
    # starting, with the pool reported right after it; then ready
    component.start("opening its pool")
    component.ready()
    component.stop_on_exit()    # SIGTERM: stopped, then the process ends
    print(f"pool_service: {args.component} ready, pool max_size {args.max_size}", file=sys.stderr,
          flush=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(pool, readiness))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        component.stop("shut down")
        readiness.close()
        pool.close()


if __name__ == "__main__":
    main()
