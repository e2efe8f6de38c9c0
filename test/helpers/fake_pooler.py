#!/usr/bin/env python3
"""A hostile "PgBouncer" for test/t/025_hostile_pooler.pl: it speaks the
PostgreSQL wire protocol well enough for libpq to log in, then answers the
pooler worker's SHOW statements in one of these ways:

  hostile  everything wrong that still parses: invalid UTF-8, names longer
           than 63 bytes, markup, negative, huge and non-numeric numbers,
           5,000 databases and pools, a flood of NOTICEs before each answer
  flood    SHOW POOLS answers rows without end
  drip     every answer one byte at a time, 50 ms apart
  garbage  bytes that are no protocol at all, right after the login
  copy     SHOW VERSION answered with a COPY (CopyOutResponse)
  notify   2,000 notifications (NOTIFY) before every answer
  closer   answers like PgBouncer (few pools), then closes the connection
           after each SHOW POOLS, as a pooler that restarts between polls

    fake_pooler.py PORT MODE
"""
import socket
import socketserver
import struct
import sys
import time

PORT = int(sys.argv[1])
MODE = sys.argv[2]


def msg(kind, payload=b""):
    return kind + struct.pack("!i", len(payload) + 4) + payload


def row_description(names):
    out = struct.pack("!h", len(names))
    for n in names:
        out += n.encode() + b"\0" + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    return msg(b"T", out)


def data_row(values):
    out = struct.pack("!h", len(values))
    for v in values:
        if v is None:
            out += struct.pack("!i", -1)
        else:
            b = v if isinstance(v, bytes) else str(v).encode()
            out += struct.pack("!i", len(b)) + b
    return msg(b"D", out)


def table(names, rows):
    return row_description(names) + b"".join(data_row(r) for r in rows) + \
        msg(b"C", b"SHOW\0")


def notices(n):
    one = msg(b"N", b"SNOTICE\0M" + b"hello from the pooler \xff" + b"\0\0")
    return one * n


POOL_COLUMNS = ["database", "user", "cl_active", "cl_waiting", "sv_active", "sv_idle",
                "sv_used", "sv_tested", "sv_login", "maxwait", "maxwait_us", "pool_mode"]


def answer(query):
    q = query.strip().upper()
    noise = notices(200)
    if q == "SHOW VERSION":
        return noise + table(["version"], [[b"PgBouncer 1.99 \xff\xfe<script>" + b"v" * 300]])
    if q == "SHOW CONFIG":
        return noise + table(["key", "value", "default", "changeable"], [
            ["max_client_conn", "-7", "100", "yes"],
            ["default_pool_size", "99999999999999999999999", "20", "yes"],
            ["pool_mode", b"x" * 300 + b"\xc3", "session", "yes"],
        ])
    if q == "SHOW LISTS":
        return noise + table(["list", "items"], [["used_clients", "12abc"], ["free_clients", None]])
    if q == "SHOW DATABASES":
        return noise + table(["name", "pool_size"],
                             [[f"db{i}", "-4" if i % 2 else "2147483648"] for i in range(5000)])
    if q == "SHOW POOLS":
        rows = []
        for i in range(5000):
            rows.append([
                (b"d\xff" + b"b" * 100 + str(i).encode()) if i % 3 else f"db{i}",
                "<script>alert('x')</script>" + "u" * 80,
                "-1", "2147483648" if i == 7 else str(i % 5), "99999999999999999999", "x", None,
                "3", "4", "9223372036854775807" if i == 11 else str(i % 7), "-3",
                b"\xff" * 40])
        return noise + table(POOL_COLUMNS, rows)
    return msg(b"E", b"SERROR\0C42601\0Munknown\0\0")


class Handler(socketserver.BaseRequestHandler):
    def read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def send(self, data):
        if MODE == "drip":
            for i in range(len(data)):
                self.request.sendall(data[i:i + 1])
                time.sleep(0.05)
        else:
            self.request.sendall(data)

    def handle(self):
        try:
            while True:
                length = struct.unpack("!i", self.read(4))[0]
                body = self.read(length - 4)
                code = struct.unpack("!i", body[:4])[0]
                if code in (80877103, 80877104):   # SSLRequest, GSSENCRequest
                    self.request.sendall(b"N")
                    continue
                break
            if MODE == "garbage":
                self.request.sendall(b"\x00\xff garbage that is no protocol \x01" * 100)
                time.sleep(5)
                return
            self.request.sendall(
                msg(b"R", struct.pack("!i", 0)) +
                msg(b"S", b"server_version\x001.99\0") +
                msg(b"S", b"client_encoding\0UTF8\0") +
                msg(b"K", struct.pack("!ii", 1, 2)) +
                msg(b"Z", b"I"))
            while True:
                kind = self.read(1)
                length = struct.unpack("!i", self.read(4))[0]
                body = self.read(length - 4)
                if kind == b"X":
                    return
                if kind != b"Q":
                    continue
                query = body.rstrip(b"\0").decode("ascii", "replace")
                if MODE == "copy":
                    self.request.sendall(msg(b"H", struct.pack("!bh", 0, 0)) +
                                         msg(b"d", b"copy data\n") * 10)
                    continue
                if MODE == "notify":
                    self.request.sendall(
                        msg(b"A", struct.pack("!i", 7) + b"chan\0" + b"p" * 500 + b"\0") * 2000)
                if MODE == "flood" and query.strip().upper() == "SHOW POOLS":
                    self.request.sendall(row_description(POOL_COLUMNS))
                    row = data_row(["db", "u", 1, 1, 1, 1, 1, 1, 1, 1, 1, "transaction"]) * 1000
                    while True:
                        self.request.sendall(row)
                if MODE == "closer":
                    q = query.strip().upper()
                    reply = table(POOL_COLUMNS, [["app", "app", "1", "0", "1", "0", "0", "0", "0",
                                                  "0", "0", "transaction"]]) \
                        if q == "SHOW POOLS" else \
                        table(["version"], [["PgBouncer 1.99"]]) if q == "SHOW VERSION" else \
                        table(["list", "items"], [["used_clients", "1"]])
                    self.send(reply + msg(b"Z", b"I"))
                    if q == "SHOW POOLS":
                        return
                    continue
                self.send(answer(query) + msg(b"Z", b"I"))
        except (EOFError, ConnectionError, BrokenPipeError, OSError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


with Server(("127.0.0.1", PORT), Handler) as server:
    server.serve_forever()
