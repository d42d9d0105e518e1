"""Run one rule on its store: open it read-only, check the names it uses, measure, judge.

The fixture's assertions and the rule-file items both end here, so a rule
reads the same, and reports the same, however it was declared.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Sequence

from . import schema_rules, table_rules
from .finding import Finding
from .graph import COUNT_TYPES, GraphError, measure
from .neo4j_rules import NEO4J_CHECKS
from .parity import DEFAULT_TOLERANCE, completeness
from .rule_preparation import check_graph_names, check_names, expand_foreign_keys
from .rules import Outcome, RuleError, RuleSpec, judge
from .sqlite import ProbeError, SQLiteProbe
from .stores import StoreError, graph_backend, sqlite_probe


class CheckError(Exception):
    """A rule that could not run (unreachable store, missing table ...); one-line message."""


def _columns(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _orphans(probe: SQLiteProbe, spec: RuleSpec) -> Awaitable[Finding]:
    child, _, column = spec.params["child"].rpartition(".")
    parent, _, parent_column = spec.params["parent"].rpartition(".")
    return probe.orphans(child, column, parent, parent_column, spec.sample, spec.params.get("where"))


async def _tables(probe: SQLiteProbe, spec: RuleSpec) -> Finding:
    found = await probe.missing("table", spec.params["expect"])
    if not spec.params.get("exact"):
        return found
    extra = await schema_rules.unexpected_tables(probe, spec.params["expect"])
    return Finding(found.value + len(extra), [*found.sample, *extra])


async def _declared_foreign_keys(probe: SQLiteProbe, spec: RuleSpec) -> Finding:
    """All declared keys at once (the fixture's form; a rule file gets one item per key)."""
    total, sample, per_key = 0, [], []
    for rule in await expand_foreign_keys(spec, probe):
        found = await SQLITE_CHECKS[rule.check](probe, rule)
        key = rule.name[len(spec.name) + 1:-1]
        total += int(found.value)
        sample += [{"foreign_key": key, **row} for row in found.sample]
        per_key.append({"foreign_key": key, "orphans": found.value})
    listed = ", ".join(f"{row['foreign_key']}: {row['orphans']}" for row in per_key if row["orphans"])
    return Finding(total, sample[:spec.sample], {"per_key": per_key}, f"per key: {listed}" if total else "")


def _where(spec: RuleSpec) -> Any:
    return spec.params.get("where")


SQLITE_CHECKS: dict[str, Callable[[SQLiteProbe, RuleSpec], Awaitable[Finding]]] = {
    "integrity_check": lambda probe, spec: probe.integrity(False, spec.sample),
    "quick_check": lambda probe, spec: probe.integrity(True, spec.sample),
    "foreign_key_check": lambda probe, spec: probe.foreign_key_violations(spec.params.get("table"), spec.sample),
    "tables": _tables,
    "indexes": lambda probe, spec: probe.missing("index", spec.params["expect"]),
    "pragmas": lambda probe, spec: probe.pragma_mismatches(spec.params["expect"]),
    "orphans": _orphans,
    "declared_foreign_keys": _declared_foreign_keys,
    "duplicates": lambda probe, spec: probe.duplicates(
        spec.params["table"], _columns(spec.params["columns"]), spec.sample, _where(spec)),
    "nulls": lambda probe, spec: probe.nulls(
        spec.params["table"], _columns(spec.params["columns"]), spec.params.get("blank", False), spec.sample,
        _where(spec)),
    "range": lambda probe, spec: probe.out_of_range(
        spec.params["table"], spec.params["column"], spec.params.get("min"), spec.params.get("max"), spec.sample,
        _where(spec)),
    "allowed_values": lambda probe, spec: table_rules.allowed_values(
        probe, spec.params["table"], spec.params["column"], spec.params["values"], spec.sample, _where(spec)),
    "json_valid": lambda probe, spec: table_rules.json_invalid(
        probe, spec.params["table"], spec.params["column"], spec.params.get("schema"), spec.sample, _where(spec)),
    "pattern": lambda probe, spec: table_rules.pattern_misses(
        probe, spec.params["table"], spec.params["column"], spec.params["regex"], spec.sample, _where(spec)),
    "row_condition": lambda probe, spec: table_rules.condition_fails(
        probe, spec.params["table"], spec.params["condition"], spec.sample, _where(spec)),
    "failed_rows": lambda probe, spec: table_rules.failed_rows(probe, spec.params["query"], spec.sample),
    "freshness": lambda probe, spec: table_rules.freshness(
        probe, spec.params["table"], spec.params["column"], _where(spec)),
    "row_count": lambda probe, spec: table_rules.row_count(probe, spec.params["table"], _where(spec)),
    "table_schema": lambda probe, spec: schema_rules.table_schema(
        probe, spec.params["table"], spec.params["columns"], spec.params.get("exact", True)),
    "index_definitions": lambda probe, spec: schema_rules.index_definitions(
        probe, spec.params["expect"], spec.params.get("exact", False)),
    "query_plan": lambda probe, spec: schema_rules.query_plans(probe, spec.params["queries"]),
}


async def run_rule(spec: RuleSpec, source: Any, compare_to: Any = None, *, names_checked: bool = False) -> Outcome:
    """Check the names ``spec`` uses on ``source``, measure it (and, for parity, ``compare_to``), judge it.

    ``names_checked``: a rule file's rules had their names checked when
    pytest collected them (``rule_preparation.prepare``), so their run time is the
    rule's own queries, not a second look at the catalog.
    """
    try:
        finding, backend = await _measure(spec, source, compare_to, names_checked)
    except (ProbeError, GraphError, StoreError, RuleError) as exc:
        raise CheckError(f"{spec.name}: cannot run: {exc}") from exc
    return judge(spec, finding, backend)


async def _measure(spec: RuleSpec, source: Any, compare_to: Any, names_checked: bool) -> tuple[Finding, str]:
    here = f"rule {spec.name!r}"
    if spec.kind == "sqlite":
        async with sqlite_probe(source) as probe:
            if not names_checked:
                await check_names(spec, probe, here)
            return await SQLITE_CHECKS[spec.check](probe, spec), probe.label
    if spec.kind in ("graph", "neo4j"):
        async with graph_backend(source) as graph:
            if not names_checked:
                await check_names(spec, graph, here)
            if spec.kind == "neo4j":
                if graph.dialect != "cypher":
                    raise StoreError(f"{graph.label}: check {spec.check!r} reads Neo4j, not SQLite")
                return await NEO4J_CHECKS[spec.check](graph, spec), graph.label
            return await measure(graph, spec.check, spec.sample), graph.label
    async with graph_backend(source) as first, graph_backend(compare_to) as second:
        for graph in () if names_checked else (first, second):
            await check_graph_names(graph, ("entities", "relationships", "documents"), here)
        tolerance = spec.params.get("tolerance", DEFAULT_TOLERANCE)
        types = spec.params.get("types", COUNT_TYPES)
        return await completeness(first, second, tolerance, types), f"{first.label} -> {second.label}"
