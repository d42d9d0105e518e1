"""Run one rule on its store: open it read-only, measure, judge.

The fixture's assertions and the rule-file items both end here, so a rule
reads the same, and reports the same, however it was declared.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Sequence

from .finding import Finding
from .graph import COUNT_TYPES, GraphError, measure
from .parity import DEFAULT_TOLERANCE, completeness
from .rules import Outcome, RuleSpec, judge
from .sqlite import ProbeError, SQLiteProbe
from .stores import StoreError, graph_backend, sqlite_probe


class CheckError(Exception):
    """A rule that could not run (unreachable store, missing table ...); one-line message."""


def _columns(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _orphans(probe: SQLiteProbe, spec: RuleSpec) -> Awaitable[Finding]:
    child, _, column = spec.params["child"].rpartition(".")
    parent, _, parent_column = spec.params["parent"].rpartition(".")
    return probe.orphans(child, column, parent, parent_column, spec.sample)


SQLITE_CHECKS: dict[str, Callable[[SQLiteProbe, RuleSpec], Awaitable[Finding]]] = {
    "integrity_check": lambda probe, spec: probe.integrity(False, spec.sample),
    "quick_check": lambda probe, spec: probe.integrity(True, spec.sample),
    "foreign_key_check": lambda probe, spec: probe.foreign_key_violations(spec.params.get("table"), spec.sample),
    "tables": lambda probe, spec: probe.missing("table", spec.params["expect"]),
    "indexes": lambda probe, spec: probe.missing("index", spec.params["expect"]),
    "pragmas": lambda probe, spec: probe.pragma_mismatches(spec.params["expect"]),
    "orphans": _orphans,
    "duplicates": lambda probe, spec: probe.duplicates(
        spec.params["table"], _columns(spec.params["columns"]), spec.sample),
    "nulls": lambda probe, spec: probe.nulls(
        spec.params["table"], _columns(spec.params["columns"]), spec.params.get("blank", False), spec.sample),
    "range": lambda probe, spec: probe.out_of_range(
        spec.params["table"], spec.params["column"], spec.params.get("min"), spec.params.get("max"), spec.sample),
}


async def run_rule(spec: RuleSpec, source: Any, compare_to: Any = None) -> Outcome:
    """Measure ``spec`` on ``source`` (and, for parity, ``compare_to``) and judge it."""
    try:
        finding, backend = await _measure(spec, source, compare_to)
    except (ProbeError, GraphError, StoreError) as exc:
        raise CheckError(f"{spec.name}: cannot run: {exc}") from exc
    return judge(spec, finding, backend)


async def _measure(spec: RuleSpec, source: Any, compare_to: Any) -> tuple[Finding, str]:
    if spec.kind == "sqlite":
        async with sqlite_probe(source) as probe:
            return await SQLITE_CHECKS[spec.check](probe, spec), probe.label
    if spec.kind == "graph":
        async with graph_backend(source) as graph:
            return await measure(graph, spec.check, spec.sample), graph.label
    async with graph_backend(source) as first, graph_backend(compare_to) as second:
        tolerance = spec.params.get("tolerance", DEFAULT_TOLERANCE)
        types = spec.params.get("types", COUNT_TYPES)
        return await completeness(first, second, tolerance, types), f"{first.label} -> {second.label}"
