"""The smoke suite catches every catalogued defect and passes every correct variant.

One real pytest process per mutant or variant (``tests/mutants/harness.py``),
so these distribute over xdist workers; all of them passing is
``python bench/mutants.py`` ending ``killed N of N mutants; benign variants
GO: M of M``.  About 7 s of CPU per run (31 runs): roughly 2 minutes on two
idle cores, serially about 4.
"""

from __future__ import annotations

import pytest

from .mutants.catalogue import MUTANTS, VARIANTS_GO, Mutant
from .mutants.harness import Failure, Run, killed, matrix, run_suite

# 31 smoke-suite processes with latency gates: on the timing worker, so they never load the CPU under a
# canary comparison (a CI run saw a canary false alarm on identical apps while they ran on the other worker).
pytestmark = pytest.mark.xdist_group("timing")


def test_the_catalogue_is_large_enough():
    assert len(MUTANTS) >= 20 and len(VARIANTS_GO) >= 6
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) and len({v.name for v in VARIANTS_GO}) == len(VARIANTS_GO)


def test_only_the_named_case_with_the_named_words_kills():
    mutant = Mutant("m", "d", (("test_a", "lost update"),))
    right = Failure("test_a", "AssertionError: lost update: 3 of 20")
    assert killed(mutant, Run("m", "t", "NO-GO", (right,))) == right
    assert killed(mutant, Run("m", "t", "NO-GO", (Failure("test_a", "IntegrityError: UNIQUE"),))) is None
    assert killed(mutant, Run("m", "t", "NO-GO", (Failure("test_b", "lost update"),))) is None
    lines = matrix([(mutant, Run("m", "t", "NO-GO", (right,)))], [])
    assert lines[-1] == "killed 1 of 1 mutants; benign variants GO: 0 of 0"


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_mutant_is_killed_by_a_failure_naming_its_defect(mutant, tmp_path):
    run = run_suite(mutant.name, mutant.target, tmp_path)
    assert killed(mutant, run) is not None, (
        f"{mutant.name} ({mutant.defect}) survived: {run.decision} {run.error} "
        + "; ".join(f"{f.case}: {f.line}" for f in run.failures)
    )


@pytest.mark.parametrize("variant", VARIANTS_GO, ids=lambda v: v.name)
def test_correct_variant_gets_go(variant, tmp_path):
    run = run_suite(variant.name, variant.target, tmp_path, variant.config, variant.prepare)
    assert run.decision == "GO", f"{variant.name}: {run.decision} {run.error} " + "; ".join(
        f"{f.case}: {f.line}" for f in run.failures
    )
