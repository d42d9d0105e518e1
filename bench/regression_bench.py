"""False-alarm and detection rates of the noise-aware regression rule.

    python3 bench/regression_bench.py [--trials 40] [--samples 300]

Each trial draws a baseline and a candidate from seeded lognormal latencies
(median 10 ms, sigma 0.3, latency's usual skew); the candidate is unchanged,
10 % slower or 30 % slower.  The table shows how often the p95 rule of the
stored-baseline gate (bound 10 %, 95 % bootstrap interval drawing 20 blocks
of consecutive samples per side) says regressed / inconclusive / within bound.
Figures only: this is synthetic data, so it measures the statistics, not a
service.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from pytest_prodready.gates.comparison import INCONCLUSIVE, REGRESSED, WITHIN, compare_percentile

SLOWDOWNS = {"unchanged": 1.0, "+10 %": 1.1, "+30 %": 1.3}


def draw(rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    return scale * rng.lognormal(mean=np.log(10.0), sigma=0.3, size=n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--samples", type=int, default=300)
    options = parser.parse_args()
    print(f"p95 rule, bound 10 %, 95 % CI; {options.trials} trials of {options.samples} samples per side")
    print(f"  {'candidate':<10} {'regressed':>10} {'inconclusive':>13} {'within bound':>13}")
    for index, (label, scale) in enumerate(SLOWDOWNS.items()):
        rng = np.random.default_rng(index)
        counts = Counter(
            compare_percentile(draw(rng, options.samples, 1.0), draw(rng, options.samples, scale), seed=trial).decision
            for trial in range(options.trials)
        )
        share = {k: 100.0 * counts[k] / options.trials for k in (REGRESSED, INCONCLUSIVE, WITHIN)}
        print(f"  {label:<10} {share[REGRESSED]:>9.0f}% {share[INCONCLUSIVE]:>12.0f}% {share[WITHIN]:>12.0f}%")


if __name__ == "__main__":
    main()
