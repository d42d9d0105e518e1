"""A small "own service" with planted flaws, for the README quick-start test and the report tests.

Run: ``python shop_service.py DB_PATH`` (the API key comes from ``SHOP_API_KEY``);
prints ``READY http://127.0.0.1:<port>`` once listening, serves until killed.
``python shop_service.py --build DB_PATH`` writes the flawed database.

Stdlib only: an SQLite file of customers and orders, and a JSON HTTP API that
wants ``X-API-Key`` on every route but ``GET /health``.  Errors are RFC 7807
problem documents.  The planted flaws:

- ``GET /customers`` answers without a key;
- no response carries a security header;
- (in the database the test builds) 3 orders whose customer does not exist and
  2 amounts out of range.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, amount REAL NOT NULL);
"""


def build_flawed_database(path: str) -> None:
    """10 customers, 40 orders; 3 orders point at missing customers, 2 amounts lie outside 0..10,000."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"customer {i}") for i in range(1, 11)])
        orders = [(i, 1 + i % 10, 10.0 * i) for i in range(1, 41)]
        orders[4] = (5, 901, 50.0)
        orders[9] = (10, 902, 100.0)
        orders[14] = (15, 903, 150.0)
        orders[19] = (20, 1, -20.0)
        orders[24] = (25, 2, 25_000.0)
        db.executemany("INSERT INTO orders VALUES (?, ?, ?)", orders)
    sqlite3.connect(path).execute("PRAGMA journal_mode=wal").fetchall()


class Api(BaseHTTPRequestHandler):
    """GET /health, GET /orders, GET /orders/<id>, POST /orders, GET /customers (the unprotected one)."""

    database = ""
    api_key = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: object, media: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _problem(self, status: int, title: str) -> None:
        self._send(status, {"type": "about:blank", "title": title, "status": status,
                            "instance": self.path.split("?")[0]}, "application/problem+json")

    def _rows(self, sql: str, *args: object) -> list[dict]:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute(sql, args)]

    def _authorised(self) -> bool:
        if self.headers.get("X-API-Key") == self.api_key:
            return True
        self._problem(401, "Unauthorized")
        return False

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path == "/health":
            started = time.perf_counter()
            self._rows("SELECT 1 AS ok")
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            self._send(200, {"status": "healthy",
                             "dependencies": {"database": {"status": "healthy", "response_time_ms": elapsed}}})
        elif path == "/customers":  # flaw: no key needed
            self._send(200, self._rows("SELECT id, name FROM customers ORDER BY id"))
        elif path == "/orders":
            if self._authorised():
                self._send(200, self._rows("SELECT id, customer_id, amount FROM orders ORDER BY id LIMIT 50"))
        elif path.startswith("/orders/") and path[8:].isdigit():
            if self._authorised():
                found = self._rows("SELECT id, customer_id, amount FROM orders WHERE id = ?", int(path[8:]))
                self._send(200, found[0]) if found else self._problem(404, "Not Found")
        else:
            self._problem(404, "Not Found")

    do_HEAD = do_GET

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != "/orders":
            self._problem(404, "Not Found")
        elif self._authorised():
            self._problem(501, "Not Implemented")  # read-only demo: nothing is ever written

    def _not_allowed(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._problem(405, "Method Not Allowed")

    do_PUT = do_PATCH = do_DELETE = do_TRACE = do_OPTIONS = _not_allowed


def main() -> None:
    if sys.argv[1] == "--build":
        build_flawed_database(sys.argv[2])
        return
    Api.database = os.path.abspath(sys.argv[1])
    Api.api_key = os.environ["SHOP_API_KEY"]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    print(f"READY http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
