"""Kill matrix: the real smoke suite against every mutant and benign variant of the reference target.

    python bench/mutants.py [--workers N] [--only NAME ...]

Each mutant carries one realistic defect and must be caught by the case its
catalogue entry names, with a failure message naming the defect; each
variant is a correct implementation that differs from the reference and must
get GO.  Ends with exactly one line ``killed K of N mutants; benign variants
GO: B of M``.  Catalogue: tests/mutants/catalogue.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.mutants.catalogue import MUTANTS, VARIANTS_GO  # noqa: E402
from tests.mutants.harness import matrix, run_all  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest processes at a time (default 2)")
    parser.add_argument("--only", nargs="*", default=None, help="names of mutants or variants to run")
    args = parser.parse_args()
    chosen = set(args.only) if args.only else None
    mutants = [m for m in MUTANTS if chosen is None or m.name in chosen]
    variants = [v for v in VARIANTS_GO if chosen is None or v.name in chosen]
    started = time.monotonic()
    mutant_runs, variant_runs = run_all(mutants, variants, workers=args.workers)
    lines = matrix(mutant_runs, variant_runs)
    print("\n".join(lines[:-1]))
    print(f"({len(mutants) + len(variants)} suite runs in {time.monotonic() - started:.0f} s, {args.workers} at a time)")
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
