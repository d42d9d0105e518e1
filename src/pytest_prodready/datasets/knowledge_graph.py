"""A deterministic knowledge graph, clean or with a known number of each fault.

``clean_graph()`` draws documents, entities and relationships from a seeded
random generator: every relationship joins two existing entities, has
evidence and a confidence in [0.3, 0.99]; every semantic id is unique.
``with_faults()`` returns the same graph with :data:`FAULTS` seeded in:

- 3 orphaned relationships (one lacks its source entity, one its target, one both);
- 4 groups of entities sharing a semantic id (5 extra entities);
- 7 relationships missing evidence (NULL, empty or blank);
- 2 relationships with inconsistent confidence: one at 1.4, one at 0.95
  with no evidence -- the latter is also one of the 7 missing evidence.

So 11 relationships fail a relationship rule, and the validation success
rate is ``100 * (total - 11) / total``.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

FAULTS = {
    "orphaned_relationships": 3,
    "duplicate_semantic_ids": 4,
    "missing_evidence": 7,
    "inconsistent_confidence": 2,
}
FAILING_RELATIONSHIPS = 11
COLUMNS = {
    "documents": ("id", "title"),
    "entities": ("id", "semantic_id", "name", "type", "document_id"),
    "relationships": ("id", "source_id", "target_id", "type", "confidence", "evidence", "document_id"),
}
ENTITY_TYPES = ("person", "project", "service", "concept", "team")
RELATION_TYPES = ("uses", "owns", "mentions", "depends_on")
_BLANKS = (None, "", "   ")


@dataclass
class GraphData:
    """Rows of the three tables, and what each graph rule must report on them."""

    documents: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    relationships: list[dict[str, Any]]
    expected: dict[str, float] = field(default_factory=dict)

    def rows(self, table: str) -> Iterator[tuple[Any, ...]]:
        """A table's rows as tuples in :data:`COLUMNS` order, as the loaders take them."""
        columns = COLUMNS[table]
        return (tuple(row.get(column) for column in columns) for row in getattr(self, table))

    def to_json(self) -> str:
        """One row per line, so a dataset diffs readably."""
        parts = [f' "expected": {json.dumps(self.expected, sort_keys=True)}']
        for table in COLUMNS:
            rows = ",\n".join(f"  {json.dumps(row)}" for row in getattr(self, table))
            parts.append(f' "{table}": [\n{rows}\n ]')
        return "{\n" + ",\n".join(parts) + "\n}\n"

    @classmethod
    def load(cls, path: Path) -> "GraphData":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["documents"], data["entities"], data["relationships"], data["expected"])


def clean_graph(seed: int = 1, documents: int = 3, entities: int = 120, relationships: int = 300) -> GraphData:
    """A sound graph: every rule passes, the success rate is 100 %."""
    rng = random.Random(seed)
    docs = [{"id": d, "title": f"document {d}"} for d in range(1, documents + 1)]
    ents = [
        {"id": e, "semantic_id": f"ent:{e:06d}", "name": f"entity {e}", "type": rng.choice(ENTITY_TYPES),
         "document_id": rng.randint(1, documents)}
        for e in range(1, entities + 1)
    ]
    rels = [_relationship(rng, r, entities, documents) for r in range(1, relationships + 1)]
    expected = {rule: 0 for rule in FAULTS} | {"validation_success_rate": 100.0}
    return GraphData(docs, ents, rels, expected)


def _relationship(rng: random.Random, rid: int, entities: int, documents: int) -> dict[str, Any]:
    source = rng.randint(1, entities)
    target = rng.randint(1, entities - 1)
    document = rng.randint(1, documents)
    return {
        "id": rid,
        "source_id": source,
        "target_id": target + (target >= source),
        "type": rng.choice(RELATION_TYPES),
        "confidence": round(rng.uniform(0.3, 0.99), 2),
        "evidence": f"document {document}, paragraph {rng.randint(1, 40)}",
        "document_id": document,
    }


def with_faults(clean: GraphData, seed: int = 2) -> GraphData:
    """The same graph with exactly :data:`FAULTS` seeded in (see the module docstring)."""
    data = copy.deepcopy(clean)
    rng = random.Random(seed)
    low = [r for r in data.relationships if r["confidence"] < 0.8]
    picked = rng.sample(low, 8)
    for rel, blank in zip(picked[:6], _BLANKS * 2):
        rel["evidence"] = blank
    picked[6]["confidence"] = 1.4
    picked[7].update(confidence=0.95, evidence=None)
    _add_orphans(data)
    _add_duplicates(data, rng)
    total = len(data.relationships)
    data.expected = {**FAULTS, "validation_success_rate": 100.0 * (total - FAILING_RELATIONSHIPS) / total}
    return data


def _add_orphans(data: GraphData) -> None:
    missing = max(e["id"] for e in data.entities) + 1000
    existing = data.entities[0]["id"]
    next_id = max(r["id"] for r in data.relationships) + 1
    ends = [(missing, existing), (existing, missing + 1), (missing + 2, missing + 3)]
    for offset, (source, target) in enumerate(ends):
        data.relationships.append({
            "id": next_id + offset, "source_id": source, "target_id": target, "type": "mentions",
            "confidence": 0.5, "evidence": "migrated without its entity", "document_id": 1,
        })


def _add_duplicates(data: GraphData, rng: random.Random) -> None:
    originals = rng.sample(data.entities, FAULTS["duplicate_semantic_ids"])
    copies = [*originals, originals[0]]
    next_id = max(e["id"] for e in data.entities) + 1
    for offset, original in enumerate(copies):
        data.entities.append({**original, "id": next_id + offset, "name": f"{original['name']} (copy)"})


def write_datasets(folder: Path) -> list[Path]:
    """Write ``graph_clean.json`` and ``graph_faults.json``, the datasets the tests ship."""
    clean = clean_graph()
    written = []
    for name, data in (("graph_clean.json", clean), ("graph_faults.json", with_faults(clean))):
        path = folder / name
        path.write_text(data.to_json(), encoding="utf-8")
        written.append(path)
    return written
