"""Records plus requirements in, GO / NO-GO out: a pure function.

A category is ready only when every case in it passed *and* at least the
required number of cases ran: a deselected or skipped case is a check that
was not measured, and a gate that says GO must have measured what it claims.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Iterable, Mapping, Protocol

from .read_only import WRITES_NOT_ALLOWED, held_back, note
from .where_ran import EMBEDDED_REFERENCE, on_reference_note
from .records import CaseResult

# Seed 003, "Smoke Test Suite": five categories, 35 cases, 100 % pass rate.
SMOKE_REQUIREMENTS: dict[str, int] = {
    "connectivity": 5,
    "core_operations": 10,
    "performance": 8,
    "integration": 7,
    "error_handling": 5,
}

DOMAIN_ORDER = ("smoke", "performance gates", "consistency", "load")


class RunRegression(Protocol):
    """A comparison of the whole run with a baseline (``gates/suite_regression.py``)."""

    @property
    def regressed(self) -> bool: ...

    def message(self) -> str: ...


@dataclass(frozen=True)
class CategoryTally:
    """Counts of one category against what it requires.

    ``passed`` includes the ``warned`` cases: they passed, and a warning never
    makes a category not ready.
    """

    domain: str
    category: str
    required: int
    passed: int = 0
    warned: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    unsupported: int = 0  # the target lacks the operation; not waived
    waived: int = 0  # unsupported, and the profile waives the case: counts towards ``required``
    on_reference: int = 0  # ran on the embedded reference, not on the system whose database was given

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.unsupported + self.waived + self.on_reference

    @property
    def ready(self) -> bool:
        return (self.failed == self.errors == self.skipped == self.unsupported == self.on_reference == 0
                and self.passed + self.waived >= self.required)

    @property
    def pass_rate(self) -> float:
        return 100.0 * self.passed / self.ran if self.ran else 0.0

    def shortfall(self) -> str:
        """Why this category is not ready, in a few words ('' when it is)."""
        parts = []
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.errors:
            parts.append(f"{self.errors} errors")
        if self.skipped:
            parts.append(f"{self.skipped} not run (skipped)")
        if self.unsupported:
            parts.append(f"{self.unsupported} unsupported by the target")
        if self.on_reference:
            parts.append(f"{self.on_reference} ran on the embedded reference, not on your system")
        if self.ran < self.required:
            parts.append(f"only {self.ran} of {self.required} required cases ran")
        return ", ".join(parts)


@dataclass(frozen=True)
class Verdict:
    """The readiness decision with everything needed to explain it."""

    go: bool
    categories: tuple[CategoryTally, ...]
    failing: tuple[CaseResult, ...] = ()
    reasons: tuple[str, ...] = ()
    incomplete: bool = False
    warnings: tuple[CaseResult, ...] = field(default=())
    blocked: bool = False
    not_run_by_policy: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # run-level comparisons that did not fail the run, e.g. the baseline within bound

    @property
    def label(self) -> str:
        return "GO" if self.go else "NO-GO"

    @property
    def total_passed(self) -> int:
        return sum(t.passed for t in self.categories)

    @property
    def total_on_reference(self) -> int:
        return sum(t.on_reference for t in self.categories)

    @property
    def total_required(self) -> int:
        return sum(t.required for t in self.categories)

    @property
    def total_ran(self) -> int:
        return sum(t.ran for t in self.categories)

    @property
    def headline(self) -> str:
        """``GO``, ``GO (2 warnings)`` or ``NO-GO``: the decision with what it let through."""
        count = len(self.warnings)
        if not count:
            return self.label
        return f"{self.label} ({count} warning{'s' if count > 1 else ''})"


def decide_verdict(
    records: Iterable[CaseResult],
    requirements: Mapping[str, Mapping[str, int]],
    *,
    incomplete: bool = False,
    blocked: str | None = None,
    waived: Collection[str] = (),
    regression: RunRegression | None = None,
) -> Verdict:
    """Tally records per (domain, category) and judge each against its requirement.

    ``requirements`` maps a domain to its categories' minimum case counts.  A
    domain's requirements apply once any record of that domain is present, so
    a run of a user's own perf gates is not failed for lacking smoke cases,
    while a smoke run with cases deselected is.  ``blocked`` (the target
    never became ready, so no case ran) is the one reason of a NO-GO.
    ``waived`` names cases (test names) whose ``unsupported`` outcome the
    profile accepts: such a case counts towards its category's requirement.
    ``regression``: the run's gated operations together against a stored
    baseline; regressed, it is a reason of a NO-GO, otherwise a note.
    """
    if blocked is not None:
        return Verdict(go=False, categories=(), reasons=(blocked,), blocked=True)
    records = list(records)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    domains_present = {r.domain for r in records}
    for domain in domains_present:
        for category in requirements.get(domain, {}):
            counts.setdefault((domain, category), {})
    for record in records:
        bucket = counts.setdefault((record.domain, record.category), {})
        outcome = "waived" if record.outcome == "unsupported" and record.name in waived else record.outcome
        if record.figures.get("ran_on") == EMBEDDED_REFERENCE:
            outcome = "on_reference"
        bucket[outcome] = bucket.get(outcome, 0) + 1

    tallies = tuple(
        CategoryTally(
            domain=domain,
            category=category,
            required=requirements.get(domain, {}).get(category, 0),
            passed=c.get("passed", 0) + c.get("warned", 0),
            warned=c.get("warned", 0),
            failed=c.get("failed", 0),
            errors=c.get("error", 0) + c.get("interrupted", 0),
            skipped=c.get("skipped", 0),
            unsupported=c.get("unsupported", 0),
            waived=c.get("waived", 0),
            on_reference=c.get("on_reference", 0),
        )
        for (domain, category), c in sorted(counts.items(), key=_category_order(requirements))
    )
    failing = tuple(
        r for r in records
        if r.outcome not in ("passed", "warned") and r.severity == "fail" and not (r.outcome == "unsupported" and r.name in waived)
    )
    reasons = tuple(f"{t.domain} / {t.category}: {t.shortfall()}" for t in tallies if not t.ready)
    if incomplete:
        reasons = ("the run was interrupted before every case finished (incomplete)",) + reasons
    if not records:
        reasons = reasons + ("no readiness case ran",)
    on_reference = sum(t.on_reference for t in tallies)
    if on_reference:
        reasons = reasons + (on_reference_note(on_reference),)
    by_policy = held_back(records)
    if by_policy:
        reasons = reasons + (f"{note(len(by_policy))}: {WRITES_NOT_ALLOWED}",)
    notes: tuple[str, ...] = ()
    if regression is not None:
        if regression.regressed:
            reasons = reasons + (regression.message(),)
        else:
            notes = (regression.message(),)
    go = bool(records) and not reasons and not incomplete
    warned = tuple(r for r in records if r.outcome == "warned")
    return Verdict(go=go, categories=tallies, failing=failing, reasons=reasons, incomplete=incomplete, warnings=warned,
                   not_run_by_policy=by_policy, notes=notes)


def _category_order(requirements: Mapping[str, Mapping[str, int]]):
    """Sort domains in their documented order and categories as required lists them."""

    def key(item: tuple[tuple[str, str], dict[str, int]]) -> tuple[int, int, str]:
        (domain, category), _ = item
        domain_rank = DOMAIN_ORDER.index(domain) if domain in DOMAIN_ORDER else len(DOMAIN_ORDER)
        listed = list(requirements.get(domain, {}))
        category_rank = listed.index(category) if category in listed else len(listed)
        return domain_rank, category_rank, category

    return key


def category_passed(passed: int, ran: int, required: int) -> str:
    """A category's count as every report words it: ``5 of 5``, ``3 of 4, needs 5``."""
    return f"{passed} of {ran}" + (f", needs {required}" if required else "")


def ran_of(category: Mapping[str, int]) -> int:
    """Cases a category of the JSON report ran (its ``passed`` includes the warned ones)."""
    return category["passed"] + category["failed"] + category["errors"] + category["skipped"]


def run_passed(passed: int, ran: int, required: int) -> str:
    """The run's count: ``12 of 18 readiness cases passed`` (``, at least 35 required`` when minimums are set)."""
    return f"{passed} of {ran} readiness cases passed" + (f", at least {required} required" if required else "")
