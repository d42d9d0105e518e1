"""Run the real smoke suite against each mutant and variant, one pytest process each, and judge the runs.

``python bench/mutants.py`` prints the kill matrix from here; the CI test
``tests/test_mutants.py`` holds its totals.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import pytest_prodready.suites

from .catalogue import MUTANTS, VARIANTS_GO, Mutant, Variant

ROOT = Path(__file__).resolve().parents[2]
SUITE = Path(pytest_prodready.suites.__file__).resolve().parent / "smoke"  # the shipped suite, wherever the package is
RUN_TIMEOUT_S = 600

# Small data and loose latency limits: the harness judges behaviour, not speed on a shared CI box.
PROJECT_TOML = """
[tool.pytest.ini_options]
asyncio_default_fixture_loop_scope = "function"

[tool.prodready]
profile = "mutants"

[tool.prodready.volume]
sessions = 40
memories = 200
documents = 30

[tool.prodready.profiles.mutants]
session_retrieval = {p95_ms = 2000, p99_ms = 4000, samples = 20, warmup = 2}
memory_retrieval = {p95_ms = 2000, p99_ms = 4000, samples = 20, warmup = 2}
namespace_query = {p95_ms = 2000, p99_ms = 4000, samples = 10, warmup = 1}
concurrent_session_reads = {max_ms = 10000, samples = 3, warmup = 1, concurrency = 10}
semantic_search = {p95_ms = 5000, p99_ms = 5000, samples = 5, warmup = 1}
hybrid_search = {p95_ms = 5000, p99_ms = 5000, samples = 5, warmup = 1}
background_sync = {max_ms = 10000, samples = 3, warmup = 0}
"""


@dataclass(frozen=True)
class Failure:
    case: str
    message: str

    @property
    def line(self) -> str:
        """The failure's first non-blank line, short enough for a matrix row."""
        first = next((line.strip() for line in self.message.splitlines() if line.strip()), "")
        return first if len(first) <= 150 else first[:147] + "..."


@dataclass(frozen=True)
class Run:
    name: str
    target: str
    decision: str
    failures: tuple[Failure, ...]
    error: str = ""


def run_suite(name: str, target: str, workdir: Path, config: str = "", prepare=None) -> Run:
    """The smoke suite in its own pytest process against ``target``, read back from its JSON report."""
    project = workdir / name
    project.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(PROJECT_TOML + "\n" + config, encoding="utf-8")
    if prepare is not None:
        prepare(project)
    report = project / "readiness.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", str(SUITE),
        "--rootdir", str(project), "-c", str(project / "pyproject.toml"),
        "--prodready-target", target, "--prodready-allow-writes", "--prodready-json", str(report),
        "--prodready-html", str(project / "readiness.html"),
    ]
    try:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Run(name, target, "TIMEOUT", (), f"no result within {RUN_TIMEOUT_S} s")
    if not report.is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
        return Run(name, target, "ERROR", (), " / ".join(tail))
    document = json.loads(report.read_text(encoding="utf-8"))
    failures = tuple(
        Failure(case["nodeid"].split("::")[-1], case.get("message", ""))
        for case in document["cases"] if case["outcome"] in ("failed", "error")
    )
    return Run(name, target, document["verdict"]["decision"], failures)


def killed(mutant: Mutant, run: Run) -> Failure | None:
    """The failure that names the mutant's defect, if any."""
    for failure in run.failures:
        for case, phrase in mutant.kills:
            if failure.case == case and phrase in failure.message:
                return failure
    return None


def run_all(mutants: Sequence[Mutant] = MUTANTS, variants: Sequence[Variant] = VARIANTS_GO,
            workers: int = 2, workdir: Path | None = None) -> tuple[list[tuple[Mutant, Run]], list[tuple[Variant, Run]]]:
    """Every mutant and variant, ``workers`` pytest processes at a time."""
    with tempfile.TemporaryDirectory(prefix="prodready-mutants-") as scratch:
        base = workdir or Path(scratch)
        jobs = [(m, m.name, m.target, "", None) for m in mutants]
        jobs += [(v, v.name, v.target, v.config, v.prepare) for v in variants]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            runs = list(pool.map(lambda job: (job[0], run_suite(job[1], job[2], base, job[3], job[4])), jobs))
    return ([(m, r) for m, r in runs if isinstance(m, Mutant)], [(v, r) for v, r in runs if isinstance(v, Variant)])


def matrix(mutant_runs: Iterable[tuple[Mutant, Run]], variant_runs: Iterable[tuple[Variant, Run]]) -> list[str]:
    """The kill matrix, one block per mutant and variant, then the one-line total."""
    lines, kills, total = [], 0, 0
    for mutant, run in mutant_runs:
        total += 1
        hit = killed(mutant, run)
        kills += hit is not None
        lines.append(f"{'KILLED ' if hit else 'SURVIVED'} {mutant.name}: {mutant.defect}")
        for failure in run.failures or ():
            marker = "*" if failure is hit else " "
            lines.append(f"   {marker} {failure.case}: {failure.line}")
        if run.error:
            lines.append(f"     run error: {run.error}")
    go, count = 0, 0
    for variant, run in variant_runs:
        count += 1
        go += run.decision == "GO"
        lines.append(f"{'GO     ' if run.decision == 'GO' else 'NOT GO '} {variant.name}: {variant.difference}")
        for failure in run.failures:
            lines.append(f"     {failure.case}: {failure.line}")
        if run.error:
            lines.append(f"     run error: {run.error}")
    lines.append(f"killed {kills} of {total} mutants; benign variants GO: {go} of {count}")
    return lines
