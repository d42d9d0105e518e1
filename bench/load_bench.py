"""Plugin-driven locust vs bare ``locust --headless`` vs ``wrk``, on the same reference HTTP app.

Prints requests/s for each and the ratios; asserts nothing (figures are for
people to read):

    python3 bench/load_bench.py [--users 50] [--duration 10] [--think 0,0] [--repeat 1]

The plugin row and the bare row run the same locustfile with the same
users, duration and think time against the same server; the plugin row
only adds the agent (connect guard, request cap, timeline, watchdog).  The
wrk rows (skipped when wrk is not installed) show what the server answers
to a C load generator on one endpoint: ``wrk -t2 -c50 -d10s`` on GET
/health, and on GET /sessions/{id} with the API key set from a 0600 Lua
script (a key on wrk's command line would show in ``ps``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from pytest_prodready.load.locust_process import API_KEY_ENV, LoadPlan, run_load
from pytest_prodready.net.server import RunningServer, reference_server
from pytest_prodready.load.load_spec import parse_load
from pytest_prodready import suites

SUITES = Path(suites.__file__).resolve().parent

LOCUSTFILE = SUITES / "load" / "locustfiles" / "memory_api.py"
WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")


def locust_rps(app: RunningServer, args: argparse.Namespace, folder: Path, bare: bool) -> float:
    spec = parse_load({"users": args.users, "spawn_rate": args.users, "duration": args.duration}, "bench")
    env = {API_KEY_ENV: app.api_key, "MEMORY_API_THINK_S": args.think}
    plan = LoadPlan(LOCUSTFILE, app.base_url, spec, Path(tempfile.mkdtemp(dir=folder)), env)
    return run_load(plan, bare=bare).rps


def wrk_rps(url: str, duration: int, script: Path | None = None) -> float:
    command = ["wrk", "-t2", "-c50", f"-d{duration}s", url]
    if script is not None:
        command[1:1] = ["-s", str(script)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 30, check=False)
    match = WRK_RATE.search(done.stdout)
    if match is None:
        raise RuntimeError(f"wrk printed no rate: {done.stdout[-300:]} {done.stderr[-300:]}")
    return float(match.group(1))


def key_script(folder: Path, api_key: str) -> Path:
    """A Lua script setting the API key header, readable by its owner only."""
    path = folder / "key.lua"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f'wrk.headers["X-API-Key"] = "{api_key}"\n')
    return path


def median_of(repeat: int, measure: Callable[[], float]) -> float:
    return statistics.median(measure() for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--think", default="0,0", help="locust think time 'min,max' seconds (0,0: as fast as it can)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per row; the median is printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp, reference_server(Path(tmp) / "app") as app:
        folder = Path(tmp)
        rows = {
            "bare locust --headless": median_of(args.repeat, lambda: locust_rps(app, args, folder, bare=True)),
            "plugin (load_runner)": median_of(args.repeat, lambda: locust_rps(app, args, folder, bare=False)),
        }
        if shutil.which("wrk"):
            script = key_script(folder, app.api_key)
            rows["wrk GET /health"] = median_of(args.repeat, lambda: wrk_rps(f"{app.base_url}/health", args.duration))
            rows["wrk GET /sessions/{id}"] = median_of(
                args.repeat, lambda: wrk_rps(f"{app.base_url}/sessions/example-session", args.duration, script)
            )
        else:
            print("wrk not installed: wrk rows skipped (apt-get install wrk)")
    base = rows["bare locust --headless"]
    print(f"users {args.users}, {args.duration} s per run, think {args.think} s, median of {args.repeat}")
    print(f"{'load generator':28} {'req/s':>10} {'vs bare locust':>15}")
    for name, rps in rows.items():
        print(f"{name:28} {rps:10.1f} {rps / base:14.2f}x")


if __name__ == "__main__":
    main()
