"""What the plugin costs a run: dormant (ordinary tests), its own import, and active (readiness cases).

    python3 bench/dormant.py [--tests 2000] [--pairs 25] [--rows a,a2,b,c[,ai,ci]]

(a) 2,000 trivial tests in an ordinary project (no ``[tool.prodready]``), the
plugin present vs ``-p no:prodready``; (a2) the same in a project whose
pyproject.toml has a ``[tool.prodready]`` table (checked at start-up, so a bad
key stops any run); (b) the plugin's own import time from ``python -X
importtime`` (pytest and the plugins it loads anyway already imported); (c)
2,000 readiness cases with the plugin's reports (JSON + HTML) vs the same
tests under pytest + pytest-html ``--html``; (ci, only when asked: it needs
valgrind and takes minutes) the same two runs of (c) counted in instructions
(cachegrind's ``I refs`` of the whole pytest process, one run each), which a
busy machine does not move; (ai, likewise) the two runs of (a) in instructions.
Runs alternate (A B, B A, ...) so a busy machine's drift lands on both sides;
each ratio is the median of the per-pair ratios, of CPU time (user + system of
the pytest process) and of wall time, with the median's distribution-free
interval (94-97 %): on this 2-core VM one run's CPU time moves by 10-20 %
between runs of the same code, so 5-9 pairs cannot resolve 3 % (their
intervals span 20-50 %); 25 pairs (the default, about 8 minutes for a, a2
and c) bring it to a few per cent.  The instruction rows are the ones a
busy machine does not move.
Every child runs with its bytecode cached (in a temporary PYTHONPYCACHEPREFIX,
after one unmeasured run of each side), as from an installed wheel, whose
modules pip compiles at install: with PYTHONDONTWRITEBYTECODE set, the
plugin's own modules would be compiled again in every run.  The load average
is printed beside each figure.  Targets: (a) <= 1.03x, (b) <= 30 ms,
(c) <= 1.05x.  Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = "def test_{i}():\n    assert {i} >= 0\n\n"
CASE = "@pytest.mark.smoke(category='bench')\ndef test_{i}():\n    assert {i} >= 0\n\n"
QUIET = ["-q", "-p", "no:cacheprovider"]
PYTEST_HTML_ONLY = ["-p", "no:prodready", "--html", "reports/plain.html", "--self-contained-html"]  # (c)'s reference


def write_suite(folder: Path, count: int, template: str, *, configured: bool = True) -> Path:
    """``count`` tests in one file; ``configured``: the pyproject has a ``[tool.prodready]`` table."""
    folder.mkdir()
    body = "import pytest\n\n" + "".join(template.format(i=i) for i in range(count))
    (folder / "test_many.py").write_text(body, encoding="utf-8")
    table = f"\n[tool.prodready.require.smoke]\nbench = {count}\n" if configured else ""
    (folder / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmarkers = ["smoke(category): a readiness case"]\n'
        'asyncio_default_fixture_loop_scope = "function"\n' + table,
        encoding="utf-8",
    )
    return folder


CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def seconds(folder: Path, args: list[str]) -> tuple[float, float]:
    """CPU time and wall time of one whole pytest process."""
    cpu, start = _children_cpu_s(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", *QUIET, *args], cwd=folder, capture_output=True, text=True,
                          env=CHILD_ENV)
    wall, cpu = time.perf_counter() - start, _children_cpu_s() - cpu
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}) with {args}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return cpu, wall


def median_interval(values: list[float]) -> tuple[float, float, float]:
    """The median's distribution-free confidence interval: the ``k``-th smallest to the ``k``-th largest value.

    Fewer than ``k`` of ``n`` values fall below the true median with
    binomial chance ``tail(k)``; ``k`` is the largest rank with ``tail(k) <=
    2.5 %`` (at least 1: with few values, the whole range).  Returns (low,
    high, coverage = 1 - 2 tail(k)).  On a machine whose run times move by
    10-20 % from one run to the next, it says how far a median of a few
    pairs can be from the true ratio.
    """
    ordered, n = sorted(values), len(values)

    def tail(k: int) -> float:
        return sum(math.comb(n, i) for i in range(k)) / 2**n

    k = 1
    while k + 1 <= (n + 1) // 2 and tail(k + 1) <= 0.025:
        k += 1
    return ordered[k - 1], ordered[n - k], 1 - 2 * tail(k)


def paired_ratio(folder: Path, subject: list[str], reference: list[str], pairs: int) -> str:
    """Median per-pair ratio subject/reference of CPU and wall time, its interval, and each side's median seconds."""
    runs: dict[str, list[tuple[float, float]]] = {"subject": [], "reference": []}
    seconds(folder, subject), seconds(folder, reference)  # unmeasured: bytecode written, files cached
    for pair in range(pairs):
        order = [("subject", subject), ("reference", reference)]
        for side, args in order if pair % 2 == 0 else reversed(order):
            runs[side].append(seconds(folder, args))
    shown = []
    for index, what in ((0, "CPU"), (1, "wall")):
        ratios = [s[index] / r[index] for s, r in zip(runs["subject"], runs["reference"])]
        mine = statistics.median(s[index] for s in runs["subject"])
        theirs = statistics.median(r[index] for r in runs["reference"])
        low, high, coverage = median_interval(ratios)
        shown.append(f"{what} {mine:.2f} s vs {theirs:.2f} s: {statistics.median(ratios):.3f}x "
                     f"({coverage:.0%} interval {low:.3f}-{high:.3f})")
    return "; ".join(shown)


_I_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(folder: Path, args: list[str]) -> int:
    """Instructions of one whole pytest process, counted by valgrind's cachegrind (no cache simulation)."""
    done = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "pytest", *QUIET, *args],
        cwd=folder, capture_output=True, text=True, env=CHILD_ENV,
    )
    found = _I_REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"pytest under cachegrind failed ({done.returncode}) with {args}:\n{done.stderr[-2000:]}")
    return int(found[1].replace(",", ""))


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_cpu_ms(rounds: int) -> float:
    """Median CPU time of ``import pytest_prodready.plugin`` after what pytest loads anyway, in ms."""
    code = ("import pytest, pytest_asyncio, pytest_html.plugin, time; start = time.process_time(); "
            "import pytest_prodready.plugin; print((time.process_time() - start) * 1000)")
    return statistics.median([
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env=CHILD_ENV).stdout)
        for _ in range(rounds + 1)][1:]  # the first run writes the bytecode
    )


def import_ms(rounds: int) -> float:
    """Median cumulative import time of pytest_prodready and its plugin module, in ms (wall clock)."""
    loaded_anyway = "import pytest, pytest_asyncio, pytest_html.plugin"
    times = []
    for _ in range(rounds + 1):  # the first run writes the bytecode
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"{loaded_anyway}; import pytest_prodready.plugin"],
            capture_output=True, text=True, check=True, env=CHILD_ENV,
        )
        total = 0
        for line in done.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if match and not match.group(3) and match.group(4) in ("pytest_prodready", "pytest_prodready.plugin"):
                total += int(match.group(2))
        times.append(total / 1000)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=25,
                        help="alternating pairs per time row (default 25: fewer leave an interval wider than the targets)")
    parser.add_argument("--rows", default="a,a2,b,c",
                        help="which rows to measure, comma-separated (default a,a2,b,c; ai and ci need valgrind and minutes)")
    options = parser.parse_args()
    rows = set(options.rows.split(","))
    with tempfile.TemporaryDirectory() as raw:
        root = Path(raw)
        CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(root / "bytecode")
        plain = write_suite(root / "plain", options.tests, PLAIN, configured=False)
        plain_configured = write_suite(root / "plain-configured", options.tests, PLAIN)
        cases = write_suite(root / "cases", options.tests, CASE)

        if "b" in rows:
            print(f"(b) import: pytest_prodready.plugin {import_ms(options.pairs):.1f} ms wall (python -X importtime), "
                  f"{import_cpu_ms(options.pairs):.1f} ms CPU (median of {options.pairs}; target <= 30 ms; {load()})",
                  flush=True)

        if "a" in rows:
            shown = paired_ratio(plain, [], ["-p", "no:prodready"], options.pairs)
            print(f"(a) dormant: {options.tests:,} trivial tests, plugin present vs -p no:prodready: {shown} "
                  f"(median of {options.pairs} alternating pairs; target <= 1.03x; {load()})", flush=True)

        if "a2" in rows:
            shown = paired_ratio(plain_configured, [], ["-p", "no:prodready"], options.pairs)
            print(f"(a2) dormant, project with [tool.prodready]: {options.tests:,} trivial tests, plugin present vs "
                  f"-p no:prodready: {shown} (median of {options.pairs} alternating pairs; {load()})", flush=True)

        if "c" in rows:
            shown = paired_ratio(cases, [], PYTEST_HTML_ONLY, options.pairs)
            print(f"(c) active: {options.tests:,} readiness cases with the plugin's reports vs pytest + pytest-html "
                  f"--html: {shown} (median of {options.pairs} pairs; target <= 1.05x; {load()})", flush=True)

        if "ai" in rows:
            counted = instruction_ratio(plain, [], ["-p", "no:prodready"])
            print(f"(ai) dormant, in instructions: {options.tests:,} trivial tests, plugin present vs -p no:prodready: "
                  f"{counted} (cachegrind I refs, one run each; target <= 1.03x)", flush=True)

        if "ci" in rows:
            counted = instruction_ratio(cases, [], PYTEST_HTML_ONLY)
            print(f"(ci) active, in instructions: {options.tests:,} readiness cases with the plugin's reports vs "
                  f"pytest + pytest-html --html: {counted} (cachegrind I refs, one run each; target <= 1.05x)", flush=True)


def instruction_ratio(folder: Path, subject: list[str], reference: list[str]) -> str:
    """Both sides' instructions and their ratio (after one unmeasured run of each, so bytecode is written)."""
    if shutil.which("valgrind") is None:
        return "skipped: valgrind is not installed"
    seconds(folder, subject), seconds(folder, reference)
    mine, theirs = instructions(folder, subject), instructions(folder, reference)
    return f"{mine / 1e9:.3f} G vs {theirs / 1e9:.3f} G: {mine / theirs:.3f}x"


if __name__ == "__main__":
    main()
