"""Serve the reference target over HTTP on 127.0.0.1: ``python -m pytest_prodready.reference.serve``.

Builds a fresh reference target in ``--workdir``, serves it with uvicorn on
a loopback port (``--port 0``: any free one) and prints
``READY http://127.0.0.1:PORT`` once the socket is listening.  API keys
come from a 0600 JSON file (``--api-key-file``), never from the command
line.  The process exits on SIGTERM / SIGINT, and by itself when the
process that started it is gone, so a crashed test run leaves no server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import uvicorn

from pytest_prodready.target import TargetContext

from .api_keys import KeyFileError, read_key_file
from .app import create_app
from .factory import create_target
from .middleware import ANONYMOUS_RATE_PER_S

LOOPBACK = "127.0.0.1"
PARENT_POLL_S = 0.5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pytest_prodready.reference.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, required=True, help="scratch folder for the SQLite file")
    parser.add_argument("--api-key-file", type=Path, required=True, help="0600 JSON list of {name, secret, rate_per_s}")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--volume", type=json.loads, default=None, help='dataset size, e.g. \'{"sessions": 100}\'')
    parser.add_argument("--anonymous-rate", type=float, default=ANONYMOUS_RATE_PER_S, help="requests/s per address without a key")
    parser.add_argument("--fault-ratio", type=float, default=0.0, help="share of requests answered 500 (tests)")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="delay added to every request (tests)")
    parser.add_argument("--slowdown", type=float, default=0.0, help="hold responses back by this fraction of their time (tests)")
    return parser.parse_args(argv)


def bind_loopback(port: int) -> socket.socket:
    """Bind before uvicorn starts, so the real port is known even for ``--port 0``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve(args: argparse.Namespace) -> None:
    keys = read_key_file(args.api_key_file)
    options = {} if args.volume is None else {"volume": args.volume}
    service = await create_target(TargetContext(workdir=args.workdir, options=options))
    try:
        app = create_app(
            service, keys, anonymous_rate_per_s=args.anonymous_rate, fault_ratio=args.fault_ratio, delay_ms=args.delay_ms,
            slowdown=args.slowdown,
        )
        sock = bind_loopback(args.port)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30)
        server = uvicorn.Server(config)
        watchers = [
            asyncio.create_task(_announce(server, sock.getsockname()[1])),
            asyncio.create_task(_exit_with_parent(server, os.getppid())),
        ]
        try:
            await server.serve(sockets=[sock])
        finally:
            for task in watchers:
                task.cancel()
    finally:
        await service.close()


async def _announce(server: uvicorn.Server, port: int) -> None:
    while not server.started:
        await asyncio.sleep(0.01)
    print(f"READY http://{LOOPBACK}:{port}", flush=True)


async def _exit_with_parent(server: uvicorn.Server, parent: int) -> None:
    """Orphaned (the test run died without stopping us): shut down instead of serving forever."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_POLL_S)
    server.should_exit = True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        asyncio.run(serve(args))
    except KeyFileError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
