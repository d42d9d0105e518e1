"""False NO-GO and detection counts of the regression gates on this machine, as separate pytest processes.

    python3 bench/baseline_noise.py [--part stored|canary|both] [--runs 20] [--baseline-runs 10]
                                    [--pin-cpu auto|off] [--canary-case hybrid] [--delay-ms 2] [--budget-s 2400]

Unlike ``bench/regression_bench.py`` (synthetic samples), every figure here
comes from real pytest sessions, each in its own process, so run-to-run
spread (process start, caches, scheduling, neighbours) is in the numbers.

``stored``: the smoke suite's performance cases (``pytest_prodready/suites/smoke/test_performance.py``)
on the embedded reference target.  ``--baseline-runs`` sessions save one
baseline (saving again under the same name adds a run), then ``--runs``
sessions compare the unchanged target with it and ``--runs`` compare a target
made 30 % slower in every operation (``PRODREADY_REFERENCE_SLOWDOWN=0.3``),
alternately, so both meet the same load.  A run is NO-GO when any gate
regressed or the gates together did (``gates/suite_regression.py``).  The
plugin's defaults judge: p50, each run at its calibrated machine speed, the
bound widened by the spread between the baseline runs.  A last table judges
the same compared runs' gates together against the baseline's first 3, 5, ...
runs only (``compare_suite`` on each run's reported figures): how many times
a baseline must be saved.  ``--pin-cpu`` is passed on as ``--prodready-pin-cpu``
(default ``auto``, the plugin's: saved and compared runs on one CPU; ``off``:
every CPU, to see what pinning changes).

``canary``: ``pytest_prodready/suites/canary`` (one case, ``-k``) against reference apps on
loopback with ``--delay-ms`` of work per request: ``--runs`` sessions compare
two identical apps and ``--runs`` compare an app holding every response back
by 30 % of its own time, alternately.  Counts are per comparison.

The load average is printed before and after: the machine is shared, and
the figures are only as good as the conditions they were measured under.
Every run is bounded (``--budget-s`` for the whole bench, a timeout per
session); a run over budget is reported, not waited for.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import pytest_prodready.suites
from pytest_prodready.cpu_pinning import DEFAULT_POLICY as DEFAULT_PIN_POLICY, PIN_POLICIES
from pytest_prodready.gates import baseline as baselines
from pytest_prodready.gates.suite_regression import compare_suite
from pytest_prodready.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SUITES = Path(pytest_prodready.suites.__file__).resolve().parent  # the shipped suites, wherever the package is
PERFORMANCE = SUITES / "smoke" / "test_performance.py"
CANARY = SUITES / "canary"
SESSION_TIMEOUT_S = 300
DEFAULT_BOUND_PCT = Settings.max_regression_pct  # the plugin's default --prodready-max-regression
VOLUME = {"sessions": 50, "memories": 200, "documents": 60}


KEEP: Path | None = None  # --keep DIR: every session's JSON report is copied there, numbered in order
_SESSIONS = itertools.count()


def pytest_session(args: list[str], report: Path, env: dict[str, str], cwd: Path) -> dict:
    """One pytest process; its JSON report (the verdict and every case's figures)."""
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args,
               "--prodready-json", str(report), "--prodready-html", str(report.with_suffix(".html"))]
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=SESSION_TIMEOUT_S)
    if not report.exists():
        raise SystemExit(f"ERROR: pytest wrote no report (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    text = report.read_text(encoding="utf-8")
    if KEEP is not None:
        (KEEP / f"{next(_SESSIONS):03d}-{report.name}").write_text(text, encoding="utf-8")
    return json.loads(text)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


SUITE = "suite: "  # prefix of the gates-together decision among a run's decisions


def stored_decisions(document: dict) -> list[str]:
    """Each gated case's baseline decision (regressed / inconclusive / within bound), then the suite's."""
    found = []
    for case in document["cases"]:
        baseline = case["figures"].get("baseline")
        if baseline:
            found.append(baseline.get("decision") or ("regressed" if baseline["regressed"] else "within bound"))
    suite = document.get("baseline_suite")
    if suite:
        found.append(SUITE + suite["decision"])
        each = " ".join(f"{change:+.0f}" for change in suite["changes_pct"].values())
        gated = gated_figures(document)
        calibrations = " ".join(f"{1000 * gated[nodeid].get(baselines.CALIBRATION, 0):.0f}" for nodeid in suite["changes_pct"])
        print(f"    gates together {suite['change_pct']:+.1f} % vs threshold {suite['threshold_pct']:.1f} %: "
              f"{suite['decision']} (each gate, %: {each}; its calibration, us: {calibrations})", flush=True)
    return found


def canary_decisions(document: dict) -> list[str]:
    """Each comparison's decision; the rounds it took (and why it stopped short) are printed."""
    found = []
    for case in document["cases"]:
        canary = case["figures"].get("canary")
        if canary:
            found.append(canary["decision"])
            cut = f", {canary['stopped_early']}" if canary.get("stopped_early") else ""
            print(f"    {canary['decision']} after {canary['blocks_done']} rounds{cut}", flush=True)
    return found


def alternate(runs: int, trial: Callable[[str, int], list[str]], labels: tuple[str, str], deadline: float) -> dict[str, list[list[str]]]:
    """``runs`` trials of each label, alternating; stops (and says so) at the deadline."""
    found: dict[str, list[list[str]]] = {label: [] for label in labels}
    for index in range(runs):
        for label in labels:
            if time.monotonic() > deadline:
                print(f"  budget spent: stopped after {len(found[label])} {label} runs", flush=True)
                return found
            started = time.monotonic()
            decisions = trial(label, index)
            found[label].append(decisions)
            counts = dict(Counter(decisions))
            print(f"  {label:<10} run {index + 1:>2}/{runs}: {counts} ({time.monotonic() - started:.0f} s; {load()})", flush=True)
    return found


def table(title: str, found: dict[str, list[list[str]]], unit: str) -> None:
    """Runs (or comparisons) per label: NO-GO, inconclusive, within bound."""
    print(f"\n{title}")
    print(f"  {'target':<10} {unit:>12} {'NO-GO':>7} {'inconclusive':>13} {'within bound':>13}")
    for label, runs in found.items():
        if unit == "runs":
            plain = [[d.removeprefix(SUITE) for d in r] for r in runs]
            outcomes = ["regressed" if "regressed" in r else "inconclusive" if "inconclusive" in r else "within bound"
                        for r in plain]
        elif unit == "suites":
            outcomes = [d.removeprefix(SUITE) for r in runs for d in r if d.startswith(SUITE)]
        else:
            outcomes = [d for r in runs for d in r if not d.startswith(SUITE)]
        counts = Counter(outcomes)
        print(f"  {label:<10} {len(outcomes):>12} {counts['regressed']:>7} {counts['inconclusive']:>13} "
              f"{counts['within bound']:>13}")


def stored(options: argparse.Namespace, folder: Path, deadline: float) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("PRODREADY_REFERENCE_SLOWDOWN", None)
    base_args = [str(PERFORMANCE), "--prodready-baseline-dir", str(folder / "baselines"),
                 "--prodready-pin-cpu", options.pin_cpu]
    print(f"stored baseline: {options.baseline_runs} baseline runs, then {options.runs} unchanged and "
          f"{options.runs} +30 % runs of {PERFORMANCE.relative_to(ROOT)}, alternately; pin_cpu = {options.pin_cpu} "
          f"({len(os.sched_getaffinity(0))} CPUs allowed)", flush=True)
    for index in range(options.baseline_runs):
        started = time.monotonic()
        pytest_session([*base_args, "--prodready-save-baseline", "noise"], folder / "save.json", env, folder)
        print(f"  baseline   run {index + 1:>2}/{options.baseline_runs} saved ({time.monotonic() - started:.0f} s; {load()})",
              flush=True)

    compared: dict[str, list[dict]] = {"unchanged": [], "+30 %": []}

    def trial(label: str, index: int) -> list[str]:
        slowed = {**env, "PRODREADY_REFERENCE_SLOWDOWN": "0.3"} if label == "+30 %" else env
        document = pytest_session([*base_args, "--prodready-compare", "noise"], folder / "compare.json", slowed, folder)
        compared[label].append(document)
        return stored_decisions(document)

    found = alternate(options.runs, trial, ("unchanged", "+30 %"), deadline)
    table("stored baseline, per run (NO-GO: any gate, or the gates together, regressed)", found, "runs")
    table("stored baseline, the gates together (one per run)", found, "suites")
    table("stored baseline, per gate comparison", found, "comparisons")
    by_baseline_runs(baselines.load(folder / "baselines", "noise"), compared)


def gated_figures(document: dict) -> dict[str, dict]:
    """Each gated case's reported latency figures with its calibration (the machine speed it was judged at):
    what the controller compares."""
    return {
        case["nodeid"]: {**case["figures"]["latency"], **baselines.calibration_of(case["figures"])}
        for case in document["cases"]
        if "latency" in case["figures"]
    }


def by_baseline_runs(saved: baselines.Baseline, compared: dict[str, list[dict]]) -> None:
    """The gates together of every compared run against the baseline's first k runs, for k = 3, 5, ... all."""
    print("\nstored baseline, the gates together against the first k baseline runs (same compared runs)")
    print(f"  {'k':>3} {'target':<10} {'runs':>5} {'regressed':>10} {'inconclusive':>13} {'within bound':>13} {'threshold':>10}")
    for k in sorted({count for count in (3, 5, len(saved.runs)) if count <= len(saved.runs)}):
        first = baselines.Baseline(saved.name, runs=saved.runs[:k])
        for label, documents in compared.items():
            suites = [compare_suite(first, gated_figures(d), baselines.DEFAULT_METRIC, DEFAULT_BOUND_PCT) for d in documents]
            counts = Counter(suite.decision for suite in suites if suite is not None)
            threshold = suites[0].threshold_pct if suites and suites[0] is not None else float("nan")
            print(f"  {k:>3} {label:<10} {len(documents):>5} {counts['regressed']:>10} {counts['inconclusive']:>13} "
                  f"{counts['within bound']:>13} {threshold:>9.1f}%", flush=True)


def canary(options: argparse.Namespace, folder: Path, deadline: float) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from pytest_prodready.net.server import reference_server

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    print(f"live canary: {options.runs} identical and {options.runs} +30 % runs of {CANARY.relative_to(ROOT)} "
          f"-k {options.canary_case} (reference apps, {options.delay_ms:g} ms work per request), alternately",
          flush=True)
    with ExitStack() as stack:
        apps = {
            name: stack.enter_context(
                reference_server(folder / name, volume=VOLUME, delay_ms=options.delay_ms, slowdown=slowdown)
            )
            for name, slowdown in (("baseline", 0.0), ("twin", 0.0), ("slower", 0.3))
        }

        def trial(label: str, index: int) -> list[str]:
            candidate = apps["twin" if label == "identical" else "slower"]
            run_env = {**env, "PRODREADY_API_KEY": candidate.api_key, "PRODREADY_BASELINE_API_KEY": apps["baseline"].api_key}
            document = pytest_session(
                [str(CANARY), "-k", options.canary_case, "--prodready-baseline-url", apps["baseline"].base_url,
                 "--prodready-target-url", candidate.base_url], folder / "canary.json", run_env, folder,
            )
            return canary_decisions(document)

        found = alternate(options.runs, trial, ("identical", "+30 %"), deadline)
    table("live canary, per comparison (NO-GO: regressed)", found, "comparisons")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("stored", "canary", "both"), default="both")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline-runs", type=int, default=baselines.MAX_RUNS)
    parser.add_argument("--pin-cpu", choices=PIN_POLICIES, default=DEFAULT_PIN_POLICY)
    parser.add_argument("--canary-case", default="hybrid")
    parser.add_argument("--delay-ms", type=float, default=2.0)
    parser.add_argument("--budget-s", type=float, default=2400.0)
    parser.add_argument("--keep", type=Path, help="copy every session's JSON report into this folder")
    options = parser.parse_args()
    global KEEP
    if options.keep:
        options.keep.mkdir(parents=True, exist_ok=True)
        KEEP = options.keep
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped (SIGTERM)"))  # so the apps are stopped too
    if options.runs < 1 or options.baseline_runs < 1:
        raise SystemExit("ERROR: --runs and --baseline-runs must be at least 1")
    deadline = time.monotonic() + options.budget_s
    print(f"start: {time.strftime('%H:%M:%S')} UTC, {load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="baseline-noise-") as tmp:
        if options.part in ("stored", "both"):
            stored(options, Path(tmp), deadline)
        if options.part in ("canary", "both"):
            canary(options, Path(tmp), deadline)
    print(f"\nend: {time.strftime('%H:%M:%S')} UTC, {load()}", flush=True)


if __name__ == "__main__":
    main()
