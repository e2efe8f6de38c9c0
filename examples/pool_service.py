#!/usr/bin/env python3
"""A service with its own connection pool, which it reports into the verdict.

The other example (service.py) reports its initialization.  This one shows
the next place "the database is fine but the service is not" begins: the
application's own pool.  It uses psycopg 3 with psycopg_pool (Debian:
python3-psycopg, python3-psycopg-pool), and:

  * serves /work?seconds=N, which holds a pool connection for N seconds
    (SELECT pg_sleep), so that a few concurrent requests exhaust a small pool;
  * every --report-interval seconds calls health.report_pool() with the
    pool's connections in use and idle, the requests waiting for one, its
    max_size, and how long the oldest of them has waited, over a connection
    of its own (never one from the pool: an exhausted pool must still be
    reported);
  * answers /health/ready with health.report(): 200 when the database's
    verdict is ready, 503 otherwise.  When requests wait longer than the
    component's pool_max_wait, its check is critical, and the route (like
    every probe of this server) says so.

    /usr/bin/python3 examples/pool_service.py \\
        --dsn "host=/tmp dbname=postgres user=shop_svc" --component shop \\
        --port 8081 --max-size 4

The database side, once, as a superuser (examples/pool_service.sql;
test/t/024_pool_example.pl runs that same file):

    psql -d postgres -f examples/pool_service.sql
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import psycopg
from psycopg_pool import ConnectionPool


class WaitTracker:
    """When each request now waiting for a pool connection began to wait."""

    def __init__(self):
        self.lock = threading.Lock()
        self.waiting = {}
        self.next_id = 0

    def begin(self):
        with self.lock:
            self.next_id += 1
            self.waiting[self.next_id] = time.monotonic()
            return self.next_id

    def end(self, ticket):
        with self.lock:
            self.waiting.pop(ticket, None)

    def longest(self):
        with self.lock:
            if not self.waiting:
                return 0.0
            return time.monotonic() - min(self.waiting.values())


class Service:
    def __init__(self, args):
        self.args = args
        self.waits = WaitTracker()
        self.pool = ConnectionPool(
            args.dsn, min_size=1, max_size=args.max_size, open=True,
            kwargs={"application_name": args.component, "autocommit": True},
            timeout=60)
        # reports go over a connection of their own, outside the pool
        self.reporter = psycopg.connect(args.dsn, autocommit=True,
                                        application_name=args.component + "-health")
        self.stopping = threading.Event()

    def work(self, seconds):
        ticket = self.waits.begin()
        try:
            with self.pool.connection() as conn:
                self.waits.end(ticket)
                conn.execute("SELECT pg_catalog.pg_sleep(%s)", (seconds,))
        finally:
            self.waits.end(ticket)

    def report_pool(self):
        stats = self.pool.get_stats()
        size = stats.get("pool_size", 0)
        idle = stats.get("pool_available", 0)
        waiting = stats.get("requests_waiting", 0)
        self.reporter.execute(
            "SELECT health.report_pool(%s, %s, %s, %s, %s, make_interval(secs => %s))",
            (self.args.component, max(size - idle, 0), idle, waiting,
             self.args.max_size, self.waits.longest() if waiting else 0.0))

    def report_loop(self):
        while not self.stopping.wait(self.args.report_interval):
            try:
                self.report_pool()
            except psycopg.Error as e:
                print(f"pool_service: could not report the pool: {e}", file=sys.stderr)

    def readiness(self):
        with psycopg.connect(self.args.dsn, autocommit=True, connect_timeout=3,
                             application_name=self.args.component + "-probe") as conn:
            return conn.execute("SELECT health.report()").fetchone()[0]


def make_handler(service):
    class Handler(BaseHTTPRequestHandler):
        def reply(self, status, doc):
            body = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/health/ready":
                try:
                    report = service.readiness()
                except psycopg.Error as e:
                    self.reply(503, {"ready": False, "error": str(e).strip()})
                    return
                self.reply(200 if report.get("ready") else 503, report)
            elif url.path == "/work":
                seconds = float(parse_qs(url.query).get("seconds", ["0.1"])[0])
                service.work(min(max(seconds, 0.0), 10.0))
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

    service = Service(args)
    service.reporter.execute("SELECT health.set_component_state(%s, 'ready')", (args.component,))
    service.report_pool()
    print(f"pool_service: {args.component} ready, pool max_size {args.max_size}", file=sys.stderr)
    threading.Thread(target=service.report_loop, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(service))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        service.stopping.set()
        service.pool.close()


if __name__ == "__main__":
    main()
