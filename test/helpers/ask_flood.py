#!/usr/bin/env python3
"""The per-tenant question asked from SQL the way an attacker with a login
would, for test/t/032_tenant_table.pl.  Two ways:

  quiet  one session re-asks every (role, database) pair that exists
         (pg_roles x pg_database, NULL on either side counting too) every
         ROUND seconds, to hold as much of the table as it can
  flood  SESSIONS processes, each with statement_timeout = 1 ms, ask about
         made-up names as fast as they can (a cancelled call is counted and
         the next one asked at once)

    ask_flood.py MODE CONNINFO SECONDS [SESSIONS|ROUND]

Prints one line at the end: "calls=N cancelled=N errors=N pairs=N".
Every call goes through psycopg2 against the real server.
"""
import os
import random
import string
import sys
import time

import psycopg2
import psycopg2.errors

MODE, CONNINFO, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
ASK = "SELECT health.ready(for_user => %s, for_database => %s)"


def quiet(round_s):
    conn = psycopg2.connect(CONNINFO)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT rolname FROM pg_catalog.pg_roles")
    roles = [r[0] for r in cur.fetchall()] + [None]
    cur.execute("SELECT datname FROM pg_catalog.pg_database")
    dbs = [d[0] for d in cur.fetchall()] + [None]
    pairs = [(r, d) for r in roles for d in dbs if r is not None or d is not None]
    calls = errors = 0
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        started = time.monotonic()
        for r, d in pairs:
            try:
                cur.execute(ASK, (r, d))
                cur.fetchall()
            except psycopg2.Error:
                errors += 1
            calls += 1
            if time.monotonic() >= end:
                break
        time.sleep(max(0.0, round_s - (time.monotonic() - started)))
    conn.close()
    return calls, 0, errors, len(pairs)


def flood_one(seed):
    rnd = random.Random(seed)
    conn = psycopg2.connect(CONNINFO, options="-c statement_timeout=1")
    conn.autocommit = True
    cur = conn.cursor()
    calls = cancelled = errors = 0
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        name = "".join(rnd.choice(string.ascii_lowercase) for _ in range(12))
        try:
            cur.execute(ASK, ("u_" + name, "d_" + name))
            cur.fetchall()
        except psycopg2.errors.QueryCanceled:
            cancelled += 1
        except psycopg2.Error:
            errors += 1
        calls += 1
    conn.close()
    return calls, cancelled, errors, 0


def flood_all(sessions):
    """One process per session (plain fork and pipes: no semaphores, which a
    chroot without /dev/shm lacks); each reports its counts as one line."""
    children = []
    for seed in range(sessions):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                counts = flood_one(seed)
            except Exception:
                counts = (0, 0, 1, 0)
            os.write(w, ("%d %d %d %d\n" % counts).encode())
            os._exit(0)
        os.close(w)
        children.append((pid, r))
    parts = []
    for pid, r in children:
        with os.fdopen(r) as f:
            line = f.read().split()
        os.waitpid(pid, 0)
        parts.append(tuple(int(x) for x in line) if len(line) == 4 else (0, 0, 1, 0))
    return parts


def main():
    if MODE == "quiet":
        result = quiet(float(sys.argv[4]) if len(sys.argv) > 4 else 15.0)
    elif MODE == "flood":
        sessions = int(sys.argv[4]) if len(sys.argv) > 4 else 20
        parts = flood_all(sessions)
        result = tuple(sum(p[i] for p in parts) for i in range(4))
    else:
        sys.exit("mode: quiet or flood")
    print("calls=%d cancelled=%d errors=%d pairs=%d" % result, flush=True)


if __name__ == "__main__":
    main()
