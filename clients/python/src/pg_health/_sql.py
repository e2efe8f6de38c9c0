"""The SQL the package runs, every name qualified (health.*, pg_catalog.*), so
that no search_path, the role's or the database's, can put another object in
its place.  Parameters are written {1}, {2}, ... and rendered per driver:
%s (psycopg, psycopg2) or $1 (asyncpg)."""
from __future__ import annotations

import re

SET_STATE = ("SELECT health.set_component_state({1}::pg_catalog.text, {2}::pg_catalog.text, "
             "{3}::pg_catalog.text)")
HEARTBEAT = "SELECT health.heartbeat({1}::pg_catalog.text)"
REPORT_POOL = ("SELECT health.report_pool({1}::pg_catalog.text, {2}::pg_catalog.int4, "
               "{3}::pg_catalog.int4, {4}::pg_catalog.int4, {5}::pg_catalog.int4, "
               "pg_catalog.make_interval(secs => {6}::pg_catalog.float8))")
REPORT = "SELECT health.report()::pg_catalog.text"
REPORT_FOR = ("SELECT health.report(for_user => {1}::pg_catalog.text, "
              "for_database => {2}::pg_catalog.text)::pg_catalog.text")
READY = "SELECT health.ready()"
READY_FOR = ("SELECT health.ready(for_user => {1}::pg_catalog.text, "
             "for_database => {2}::pg_catalog.text)")

_PARAM = re.compile(r"\{(\d+)\}")


def render(template: str, style: str) -> str:
    """The statement for a driver's parameter style: "format" (%s) or "numeric" ($1)."""
    if style == "format":
        return _PARAM.sub("%s", template)
    return _PARAM.sub(lambda m: "$" + m.group(1), template)
