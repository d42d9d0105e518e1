"""False-alarm and detection rates of the live canary gate, on real services.

    python3 bench/canary_bench.py [--trials 20] [--delay-ms 2] [--rounds 20] [--block-size 25]

Starts four reference apps on 127.0.0.1, all doing ``--delay-ms`` of
simulated work per request: the baseline, an unchanged twin, and candidates
whose every response is held back by 10 % and 30 % of its own time.  Each
trial is one canary comparison exactly as the ``canary`` fixture runs it
(interleaved ABBA blocks of ``GET /search``, p50 / p95 bound 10 %, each the
trimmed mean of per-round ratios, error rate bound 5 points, p99 reported,
95 % bootstrap intervals over rounds).  The table
shows how often the gate said regressed / inconclusive / within bound, and
the median measured p95 change.  The "+10 %" candidate sits on the bound: its
client-side change is a little under 10 % (client and network time are not
slowed), so "regressed" there would be a false alarm too.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from pytest_prodready.canary.judgement import NO_BASELINE
from pytest_prodready.canary.pair import CanaryPair, Endpoint
from pytest_prodready.canary.canary_run import CanaryRun
from pytest_prodready.canary.spec import CanarySpec
from pytest_prodready.gates.comparison import INCONCLUSIVE, REGRESSED, WITHIN
from pytest_prodready.gates.latency import DEFAULT_CLOCK
from pytest_prodready.net.server import reference_server
from pytest_prodready.timeouts import Timeouts

CANDIDATES = {"unchanged": 0.0, "+10 %": 0.1, "+30 %": 0.3}
VOLUME = {"sessions": 50, "memories": 200, "documents": 60}


def trial(baseline: Endpoint, candidate: Endpoint, spec: CanarySpec) -> dict:
    """One canary comparison; returns its figures."""
    run = CanaryRun(
        CanaryPair(baseline, candidate), spec, timeouts=Timeouts(), allow_remote=False,
        clock=DEFAULT_CLOCK, record=lambda outcome: None, progress=lambda line: None,
    )
    return run.get("/search", {"q": "memory"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--block-size", type=int, default=25)
    options = parser.parse_args()
    spec = CanarySpec(rounds=options.rounds, block_size=options.block_size)
    print(
        f"canary gate on reference apps ({options.delay_ms:g} ms work per request): {options.trials} trials per "
        f"candidate, {spec.planned_per_side} requests per side in ABBA blocks of {spec.block_size}"
    )
    with tempfile.TemporaryDirectory(prefix="canary-bench-") as tmp, ExitStack() as stack:
        def start(name: str, slowdown: float) -> Endpoint:
            app = stack.enter_context(
                reference_server(Path(tmp) / name, volume=VOLUME, delay_ms=options.delay_ms, slowdown=slowdown)
            )
            return Endpoint(app.base_url, app.api_key)

        baseline = start("baseline", 0.0)
        candidates = {label: start(f"candidate-{i}", slowdown) for i, (label, slowdown) in enumerate(CANDIDATES.items())}
        print(f"  {'candidate':<10} {'regressed':>10} {'inconclusive':>13} {'within bound':>13} {'median p95 change':>18} {'s/trial':>8}")
        regressed: dict[str, float] = {}
        for label, candidate in candidates.items():
            started = time.monotonic()
            results = [trial(baseline, candidate, spec) for _ in range(options.trials)]
            seconds = (time.monotonic() - started) / options.trials
            counts = Counter(r["decision"] for r in results)
            share = {k: 100.0 * counts[k] / options.trials for k in (REGRESSED, INCONCLUSIVE, WITHIN, NO_BASELINE)}
            p95 = statistics.median(
                c["change"] for r in results for c in r["comparisons"] if c["metric"] == "p95"
            )
            print(
                f"  {label:<10} {share[REGRESSED]:>9.0f}% {share[INCONCLUSIVE]:>12.0f}% {share[WITHIN]:>12.0f}% "
                f"{p95:>+16.1f} % {seconds:>8.1f}"
            )
            regressed[label] = share[REGRESSED]
        print(
            f"false-alarm rate (unchanged called regressed): {regressed['unchanged']:.0f} %; "
            f"detection rate (+30 % called regressed): {regressed['+30 %']:.0f} %"
        )


if __name__ == "__main__":
    main()
