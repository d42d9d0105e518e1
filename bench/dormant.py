"""What the plugin costs a run: dormant (ordinary tests), its own import, and active (readiness cases).

    python3 bench/dormant.py [--tests 2000] [--pairs 5]

(a) 2,000 trivial tests, the plugin present vs ``-p no:prodready``; (b) the
plugin's own import time from ``python -X importtime`` (pytest and the plugins
it loads anyway already imported); (c) 2,000 readiness cases with the plugin's
reports (JSON + HTML) vs the same tests under pytest + pytest-html ``--html``.
Runs alternate (A B, B A, ...) so a busy machine's drift lands on both sides;
each ratio is the median of the per-pair ratios.  Targets: (a) <= 1.03x,
(b) <= 30 ms, (c) <= 1.05x.  Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = "def test_{i}():\n    assert {i} >= 0\n\n"
CASE = "@pytest.mark.smoke(category='bench')\ndef test_{i}():\n    assert {i} >= 0\n\n"
QUIET = ["-q", "-p", "no:cacheprovider"]


def write_suite(folder: Path, count: int, template: str) -> Path:
    folder.mkdir()
    body = "import pytest\n\n" + "".join(template.format(i=i) for i in range(count))
    (folder / "test_many.py").write_text(body, encoding="utf-8")
    (folder / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nmarkers = ["smoke(category): a readiness case"]\n'
        'asyncio_default_fixture_loop_scope = "function"\n\n'
        f"[tool.prodready.require.smoke]\nbench = {count}\n",
        encoding="utf-8",
    )
    return folder


def seconds(folder: Path, args: list[str]) -> float:
    """Wall time of one whole pytest process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", *QUIET, *args], cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}) with {args}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def paired_ratio(folder: Path, subject: list[str], reference: list[str], pairs: int) -> tuple[float, float, float]:
    """Median of subject/reference over alternating pairs, and the two medians in seconds."""
    ratios, subject_s, reference_s = [], [], []
    for pair in range(pairs):
        order = [(subject, subject_s), (reference, reference_s)]
        for args, into in order if pair % 2 == 0 else reversed(order):
            into.append(seconds(folder, args))
        ratios.append(subject_s[-1] / reference_s[-1])
    return statistics.median(ratios), statistics.median(subject_s), statistics.median(reference_s)


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_ms(rounds: int) -> float:
    """Median cumulative import time of pytest_prodready and its plugin module, in ms."""
    loaded_anyway = "import pytest, pytest_asyncio, pytest_html.plugin"
    times = []
    for _ in range(rounds):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"{loaded_anyway}; import pytest_prodready.plugin"],
            capture_output=True, text=True, check=True,
        )
        total = 0
        for line in done.stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if match and not match.group(3) and match.group(4) in ("pytest_prodready", "pytest_prodready.plugin"):
                total += int(match.group(2))
        times.append(total / 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw:
        root = Path(raw)
        plain = write_suite(root / "plain", options.tests, PLAIN)
        cases = write_suite(root / "cases", options.tests, CASE)

        ratio, with_s, without_s = paired_ratio(plain, [], ["-p", "no:prodready"], options.pairs)
        print(f"(a) dormant: {options.tests:,} trivial tests, plugin present {with_s:.2f} s vs -p no:prodready "
              f"{without_s:.2f} s: {ratio:.3f}x (median of {options.pairs} alternating pairs; target <= 1.03x)")

        print(f"(b) import: pytest_prodready.plugin {import_ms(options.pairs):.1f} ms "
              f"(python -X importtime, median of {options.pairs}; target <= 30 ms)")

        html = ["-p", "no:prodready", "--html", "reports/plain.html", "--self-contained-html"]
        ratio, with_s, without_s = paired_ratio(cases, [], html, options.pairs)
        print(f"(c) active: {options.tests:,} readiness cases with the plugin's reports {with_s:.2f} s vs pytest + "
              f"pytest-html --html {without_s:.2f} s: {ratio:.3f}x (median of {options.pairs} pairs; target <= 1.05x)")


if __name__ == "__main__":
    main()
