"""Flask + psycopg 3 with a psycopg_pool pool, served by werkzeug's threaded
server, with pg_health's component, pool reporter and routes
(test/t/043_python.pl).

    PGH_DSN="host=/tmp port=5432 dbname=postgres user=web_svc" PGH_GO_FILE=/tmp/go \
    python clients/python/tests/flask_app.py 8001

/work?seconds=N holds one of the pool's connections for N seconds.  SIGTERM
reports the component stopped, then ends the process.
"""
from __future__ import annotations

import logging
import sys
import threading

from flask import Flask, jsonify, request
from psycopg_pool import ConnectionPool

import pg_health
import pg_health.flask
from apps_common import check, env, wait_go

logging.basicConfig(level=logging.INFO, format="flask_app: %(message)s")
NAME = env("PGH_COMPONENT", "web")
DSN = env("PGH_DSN")
GO = env("PGH_GO_FILE")

pool = ConnectionPool(DSN, min_size=1, max_size=2, open=True, timeout=60,
                      kwargs={"application_name": NAME, "autocommit": True})
component = pg_health.Component(NAME, DSN, heartbeat_interval=0.5, pool_interval=0.2)
component.watch_pool(pool)
readiness = pg_health.Readiness(DSN, timeout=2.0, component=component,
                                application_name=NAME + " readiness")

# per tenant: would a new connection of this service's role be admitted?
tenant = pg_health.Readiness(DSN, timeout=2.0, for_user="web_svc", for_database="postgres",
                             application_name=NAME + " tenant")

app = Flask(__name__)
app.register_blueprint(pg_health.flask.blueprint(readiness))
app.register_blueprint(pg_health.flask.blueprint(tenant, prefix="/tenant"))


@app.route("/work")
def work() -> object:
    seconds = min(float(request.args.get("seconds", "1")), 10.0)
    with pool.connection() as conn:
        conn.execute("SELECT pg_catalog.pg_sleep(%s)", (seconds,))
    return jsonify(done=True)


def initialize() -> None:
    component.start("waiting for the go file")
    last = wait_go(GO)
    while True:
        try:
            with component.starting("checking the schema"):
                check(last)
        except RuntimeError:
            # failed, with the message, until the file changes
            last = wait_go(GO, last)
            continue
        component.ready()
        logging.info("%s ready", NAME)
        return


if __name__ == "__main__":
    from werkzeug.serving import run_simple

    component.stop_on_exit()           # SIGTERM: stopped, then the process ends
    threading.Thread(target=initialize, daemon=True).start()
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
