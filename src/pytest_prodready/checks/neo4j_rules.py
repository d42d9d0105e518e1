"""Rules on any Neo4j label or relationship type: existence, present and unique properties, allowed values.

The label (``label = "Entity"``) or relationship type (``type = "RELATES"``)
and every property are checked against the server's catalog before a rule
runs (:mod:`.catalog`); Cypher would match nothing for a misspelling and the
rule would pass.  Counting follows the graph rules: a bounded sample first,
the count only when there are more offenders than it shows.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .finding import DEFAULT_SAMPLE, Finding, sample_then_count
from .graph import Neo4jGraph, quote_label


def _pattern(params: Mapping[str, Any]) -> str:
    """``(n:`Label`)`` or ``()-[n:`TYPE`]->()``: what the rule reads, bound to ``n``."""
    if "label" in params:
        return f"(n:{quote_label(params['label'])})"
    return f"()-[n:{quote_label(params['type'])}]->()"


def _listed(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _property(name: str) -> str:
    return f"n.{quote_label(name)}"


async def _offenders(graph: Neo4jGraph, match: str, shown: str, order: str, limit: int,
                     params: Mapping[str, Any] | None = None) -> Finding:
    async def counted() -> int:
        (row,) = await graph.records(f"{match} RETURN count(*) AS offenders", None, params)
        return int(row["offenders"])

    count, found = await sample_then_count(
        lambda n: graph.records(f"{match} RETURN {shown} ORDER BY {order} LIMIT $limit", n, params), counted, limit)
    return Finding(count, found)


async def missing_labels(graph: Neo4jGraph, labels: Sequence[str] = (), types: Sequence[str] = ()) -> Finding:
    """Labels no node carries and relationship types no relationship has (one query for all)."""
    checks = [(f"label {name}", f"EXISTS {{ MATCH (:{quote_label(name)}) }}") for name in labels]
    checks += [(f"type {name}", f"EXISTS {{ MATCH ()-[:{quote_label(name)}]->() }}") for name in types]
    (row,) = await graph.records("RETURN " + ", ".join(f"{test} AS c{i}" for i, (_, test) in enumerate(checks)))
    absent = [{"missing": name} for i, (name, _) in enumerate(checks) if not row[f"c{i}"]]
    return Finding(len(absent), absent)


async def missing_properties(graph: Neo4jGraph, params: Mapping[str, Any], limit: int = DEFAULT_SAMPLE) -> Finding:
    """Nodes (or relationships) lacking any of the properties."""
    names = _listed(params["properties"])
    test = " OR ".join(f"{_property(name)} IS NULL" for name in names)
    shown = ", ".join(["n.id AS id", "elementId(n) AS element_id",
                       *(f"{_property(name)} AS {quote_label(name)}" for name in names)])
    return await _offenders(graph, f"MATCH {_pattern(params)} WHERE {test}", shown, "element_id", limit)


async def duplicate_values(graph: Neo4jGraph, params: Mapping[str, Any], limit: int = DEFAULT_SAMPLE) -> Finding:
    """Groups of nodes sharing the values of the properties (a node lacking one is distinct, as in UNIQUE)."""
    names = _listed(params["properties"])
    present = " AND ".join(f"{_property(name)} IS NOT NULL" for name in names)
    keys = ", ".join(f"{_property(name)} AS {quote_label(name)}" for name in names)
    grouped = (f"MATCH {_pattern(params)} WHERE {present} WITH {keys}, count(*) AS copies WHERE copies > 1")
    order = ", ".join(quote_label(name) for name in names)
    return await _offenders(graph, grouped, f"{order}, copies", order, limit)


async def disallowed_values(graph: Neo4jGraph, params: Mapping[str, Any], limit: int = DEFAULT_SAMPLE) -> Finding:
    """Nodes (or relationships) whose property is set to a value not in ``values``."""
    value = _property(params["property"])
    match = f"MATCH {_pattern(params)} WHERE {value} IS NOT NULL AND NOT {value} IN $values"
    shown = f"n.id AS id, elementId(n) AS element_id, {value} AS {quote_label(params['property'])}"
    return await _offenders(graph, match, shown, "element_id", limit, {"values": list(params["values"])})


NEO4J_CHECKS = {
    "graph_labels": lambda graph, spec: missing_labels(graph, spec.params.get("labels", ()),
                                                       spec.params.get("types", ())),
    "graph_property_exists": lambda graph, spec: missing_properties(graph, spec.params, spec.sample),
    "graph_unique": lambda graph, spec: duplicate_values(graph, spec.params, spec.sample),
    "graph_allowed_values": lambda graph, spec: disallowed_values(graph, spec.params, spec.sample),
}


def graph_names(params: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """``(kind, name, key)`` for the label or type and every property a Neo4j rule names."""
    named = []
    if "label" in params:
        named.append(("label", params["label"], "label"))
    if "type" in params:
        named.append(("relationship type", params["type"], "type"))
    for key in ("properties", "property"):
        named += [("property", name, key) for name in _listed(params.get(key, []))]
    return named
