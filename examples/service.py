#!/usr/bin/env python3
"""A small HTTP service whose readiness is the database's verdict.

It shows the pattern pg_health exists for, with the pg_health Python package
(clients/python; docs/python.md):

  * the service reports its own initialization into the database (a
    pg_health.Component: starting, then ready) and a thread of the package
    heartbeats while it runs, over a connection of its own, so a service
    that hangs is seen as "lost";
  * its /health/ready route does not decide anything itself: it answers 200
    when the database's verdict is ready and 503 otherwise, with the reasons
    (pg_health.Readiness), and /health with the whole health.report(), so
    the route, a Kubernetes probe and a DBA at psql all see the same verdict;
  * /health/live says only that the process answers (a liveness probe must
    not restart a service because its database is busy).

The standard library, psycopg2 (Debian: python3-psycopg2) and the package:
installed (pip install clients/python), or else taken from this checkout.

    python3 examples/service.py --dsn "host=/tmp dbname=postgres user=svc" \\
        --component backend --port 8080

The database side, once, as a superuser (examples/service.sql: the role
svc, the component's configuration, the grant for /health/ready, and the
requirement; test/t/009_example_service.pl runs that same file):

    psql -d postgres -f examples/service.sql

Sending SIGUSR1 stops the heartbeat (to see what a hung service looks like:
after its TTL the component is "lost" and /health/ready answers 503).
SIGTERM reports the component stopped.
"""
import argparse
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import pg_health
except ImportError:     # not installed: the package in this checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "clients", "python", "src"))
    import pg_health


def log(msg):
    print("service: %s" % msg, file=sys.stderr, flush=True)


def make_handler(readiness):
    routes = {"/health/live": readiness.live, "/health/ready": readiness.ready,
              "/health": readiness.report}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            route = routes.get(self.path)
            if route is None:
                answer = pg_health.Answer(404, {"error": "not found"})
            else:
                answer = route()
            data = (answer.json() + "\n").encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
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

    component = pg_health.Component(args.component, args.dsn, driver="psycopg2",
                                    heartbeat_interval=args.heartbeat_interval)
    readiness = pg_health.Readiness(args.dsn, driver="psycopg2", timeout=3.0, component=component)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: (component.pause(),
                                              log("heartbeat stopped (SIGUSR1)")))
    server = ThreadingHTTPServer((args.listen, args.port), make_handler(readiness))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log("listening on http://%s:%d/health/ready" % (args.listen, args.port))

    # the service's real start-up work; a database that does not answer yet
    # is no error: the package's thread tells it as soon as it does
    with component.starting("loading configuration and warming caches"):
        stop.wait(args.startup_delay)
    if component.ready():
        log("reported ready")
    else:
        log("ready; the database will be told when it answers (%s)" % component.last_error)

    while not stop.wait(0.2):
        pass
    component.stop("shut down")
    server.shutdown()
    readiness.close()


if __name__ == "__main__":
    main()
