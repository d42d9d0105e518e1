"""What the plugin costs: timer overhead per sample, and a whole run of 2,000 tests.

Prints figures, asserts nothing (speed targets are for people to read):

    python3 bench/gate_overhead.py [--tests 2000] [--repeat 3]

The end-to-end part runs pytest in subprocesses on 2,000 trivial tests, all
with pytest-html writing a report: bare pytest (plugin disabled), the plugin
installed but silent (unmarked tests), and the plugin judging (every test a
readiness case), and prints each against bare.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_prodready.gates.latency import LatencyRecorder, measure_timer_overhead

PLAIN = "def test_{i}():\n    assert {i} >= 0\n\n"
MARKED = "@pytest.mark.smoke(category='bench')\ndef test_{i}():\n    assert {i} >= 0\n\n"


def per_sample_overhead(rounds: int = 200_000) -> tuple[float, float, float]:
    """ns per ``with recorder.measure():`` beyond an empty loop, the clock pair's own cost, and the same
    timing written as a generator-based ``contextlib.contextmanager`` (why ``measure()`` is a small class)."""
    recorder = LatencyRecorder(samples=rounds, warmup=0)
    start = time.perf_counter_ns()
    for _ in range(rounds):
        pass
    empty = time.perf_counter_ns() - start
    start = time.perf_counter_ns()
    for _ in recorder.samples():
        with recorder.measure():
            pass
    timed = time.perf_counter_ns() - start
    kept: list[float] = []

    @contextlib.contextmanager
    def generator_measure():
        began = time.perf_counter_ns()
        yield
        kept.append((time.perf_counter_ns() - began) / 1e6)

    start = time.perf_counter_ns()
    for _ in range(rounds):
        with generator_measure():
            pass
    generator = time.perf_counter_ns() - start
    return (timed - empty) / rounds, measure_timer_overhead(), (generator - empty) / rounds


def write_suite(folder: Path, count: int, template: str) -> None:
    body = "import pytest\n\n" + "".join(template.format(i=i) for i in range(count))
    (folder / "test_many.py").write_text(body, encoding="utf-8")
    (folder / "pyproject.toml").write_text(
        f"[tool.prodready.require.smoke]\nbench = {count}\n", encoding="utf-8"
    )


def run_seconds(folder: Path, args: list[str], repeat: int) -> float:
    """Median wall time of a whole pytest process."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
            cwd=folder, capture_output=True, text=True,
        )
        times.append(time.perf_counter() - start)
        if done.returncode not in (0,):
            raise SystemExit(f"pytest failed ({done.returncode}) with {args}:\n{done.stdout[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()

    measured, clock_pair, generator = per_sample_overhead()
    print(f"timer overhead: {measured:.0f} ns per measured sample (clock pair alone: {clock_pair:.0f} ns; "
          f"a generator-based context manager: {generator:.0f} ns)")

    with tempfile.TemporaryDirectory() as raw:
        root = Path(raw)
        plain, marked = root / "plain", root / "marked"
        plain.mkdir(), marked.mkdir()
        write_suite(plain, options.tests, PLAIN)
        write_suite(marked, options.tests, MARKED)
        html = ["--html", "out/report.html", "--self-contained-html"]
        bare = run_seconds(plain, ["-p", "no:prodready", *html], options.repeat)
        silent = run_seconds(plain, html, options.repeat)
        judging = run_seconds(marked, html, options.repeat)

    print(f"{options.tests} trivial tests, pytest-html on, median of {options.repeat} runs:")
    print(f"  {'bare pytest (plugin disabled)':<34} {bare:7.2f} s   1.00x")
    print(f"  {'plugin installed, silent':<34} {silent:7.2f} s   {silent / bare:.2f}x")
    print(f"  {'plugin judging every test':<34} {judging:7.2f} s   {judging / bare:.2f}x")


if __name__ == "__main__":
    main()
