#!/usr/bin/env python3
"""A small HTTP service whose readiness is the database's verdict.

It shows the pattern pg_health exists for:

  * the service reports its own initialization into the database
    (health.set_component_state: starting, then ready) and heartbeats while
    it runs (health.heartbeat), so a service that hangs is seen as "lost";
  * its /health/ready route does not decide anything itself: it returns
    health.report() as the body, with 200 when the report says ready and
    503 otherwise, so the route, a Kubernetes probe and a DBA at psql all
    see the same verdict and the same reasons;
  * /health/live says only that the process answers (a liveness probe must
    not restart a service because its database is busy).

Only the standard library and psycopg2 (Debian: python3-psycopg2).

    python3 examples/service.py --dsn "host=/tmp dbname=postgres user=svc" \\
        --component backend --port 8080

The database side, once, as a superuser (examples/service.sql: the role
svc, the component's configuration, the grant for /health/ready, and the
requirement; test/t/009_example_service.pl runs that same file):

    psql -d postgres -f examples/service.sql

Sending SIGUSR1 stops the heartbeat (to see what a hung service looks like:
after its TTL the component is "lost" and /health/ready answers 503).
"""
import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2


class Database:
    """One connection, reopened when it breaks; calls are serialized."""

    def __init__(self, dsn, application_name):
        self.dsn = dsn
        self.application_name = application_name
        self.conn = None
        self.lock = threading.Lock()

    def call(self, sql, args=()):
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.conn is None or self.conn.closed:
                        self.conn = psycopg2.connect(
                            self.dsn, application_name=self.application_name,
                            connect_timeout=3)
                        self.conn.autocommit = True
                    with self.conn.cursor() as cur:
                        cur.execute(sql, args)
                        return cur.fetchone() if cur.description else None
                except psycopg2.OperationalError:
                    if self.conn is not None:
                        self.conn.close()
                    self.conn = None
                    if attempt == 2:
                        raise


class Service:
    def __init__(self, args):
        self.args = args
        # the service's own work would use this pool; pg_health counts its
        # connections under the component's pool application_name
        self.db = Database(args.dsn, args.component)
        self.probe_db = Database(args.dsn, args.component + "-probe")
        self.heartbeating = threading.Event()
        self.heartbeating.set()

    def report(self, state, detail=None):
        self.db.call("SELECT health.set_component_state(%s, %s, %s)",
                     (self.args.component, state, detail))

    def initialize(self):
        self.report("starting", "loading configuration and warming caches")
        time.sleep(self.args.startup_delay)     # the service's real start-up work
        self.report("ready")
        log("reported ready")

    def heartbeat_loop(self):
        while True:
            time.sleep(self.args.heartbeat_interval)
            if not self.heartbeating.is_set():
                continue
            try:
                self.db.call("SELECT health.heartbeat(%s)", (self.args.component,))
            except psycopg2.Error as e:
                log("heartbeat failed: %s" % e)

    def readiness(self):
        """(HTTP status, body): the database's report, 200 only when ready."""
        try:
            (report,) = self.probe_db.call("SELECT health.report()::text")
        except psycopg2.Error as e:
            body = {"status": "unknown", "ready": False,
                    "error": "cannot read the verdict from the database: %s" % str(e).strip()}
            return 503, json.dumps(body)
        return (200 if json.loads(report)["ready"] else 503), report


def log(msg):
    print("service: %s" % msg, file=sys.stderr, flush=True)


def make_handler(service):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health/ready":
                status, body = service.readiness()
            elif self.path == "/health/live":
                status, body = 200, json.dumps({"live": True})
            else:
                status, body = 404, json.dumps({"error": "not found"})
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            pass

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dsn", required=True, help="libpq connection string")
    p.add_argument("--component", default="example", help="component name")
    p.add_argument("--listen", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--startup-delay", type=float, default=2.0,
                   help="seconds of simulated initialization")
    p.add_argument("--heartbeat-interval", type=float, default=1.0)
    args = p.parse_args()

    service = Service(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: (service.heartbeating.clear(),
                                              log("heartbeat stopped (SIGUSR1)")))
    server = ThreadingHTTPServer((args.listen, args.port), make_handler(service))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log("listening on http://%s:%d/health/ready" % (args.listen, args.port))

    # report start-up, retrying while the database is not reachable yet
    while not stop.is_set():
        try:
            service.initialize()
            break
        except psycopg2.Error as e:
            log("cannot report to the database yet: %s" % str(e).strip())
            stop.wait(1.0)
    threading.Thread(target=service.heartbeat_loop, daemon=True).start()

    while not stop.wait(0.2):
        pass
    try:
        service.report("stopped", "shut down")
    except psycopg2.Error:
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
