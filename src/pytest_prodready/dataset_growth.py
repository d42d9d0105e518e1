"""Realistic data before the performance gates: a latency measured on an empty database means little.

The reference target seeds itself to ``volume``; any other target gets
nothing.  So before the first gate, when writes are allowed, the target is
grown *through the protocol* (sessions, memory entries, synced markdown
documents) up to the configured volume, and every gate reports the dataset
it ran on.  A read-only run grows nothing and says when the target was
near-empty.  Rows are counted with the read-only probe when the target has
a database file; otherwise the size before growing is unknown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .target import MEMORY_TYPES

COUNTED_TABLES = {"sessions": "sessions", "memories": "memory_entries", "documents": "document_index"}
NEAR_EMPTY_SHARE = 0.1  # below a tenth of the configured volume in any kind of row
DOCUMENT_BATCH = 50


@dataclass
class Dataset:
    """What the gates ran on: counts per kind (None: not countable), what was added, and the volume asked for."""

    volume: Mapping[str, int]
    before: dict[str, int | None] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> dict[str, int | None]:
        return {kind: None if self.before.get(kind) is None else self.before[kind] + self.added.get(kind, 0)
                for kind in self.volume}

    @property
    def near_empty(self) -> bool:
        return any(count is not None and count < NEAR_EMPTY_SHARE * self.volume[kind]
                   for kind, count in self.size.items())

    def to_figures(self) -> dict[str, Any]:
        return {"volume": dict(self.volume), "size": self.size, "added": dict(self.added), "near_empty": self.near_empty}

    def warning(self) -> str:
        """What a read-only run says when it measured a near-empty target ('' otherwise)."""
        if not self.near_empty:
            return ""
        shown = ", ".join(f"{kind} {count}" for kind, count in self.size.items())
        return (f"measured a near-empty target ({shown}; volume {dict(self.volume)}): latencies on so little data "
                "say little; pass --prodready-allow-writes to grow it first")


async def count_rows(probe: Any) -> dict[str, int | None]:
    """Rows per kind in the target's database, or None per kind without a probe or table."""
    counts: dict[str, int | None] = {}
    for kind, table in COUNTED_TABLES.items():
        if probe is None:
            counts[kind] = None
            continue
        try:
            (count,), = await probe.rows(f'SELECT count(*) FROM "{table}"')
        except Exception:  # a missing table is the connectivity cases' finding, not this one's
            count = None
        counts[kind] = count
    return counts


async def grow(target: Any, dataset: Dataset, corpus: Path) -> None:
    """Create what is missing up to the volume through the target's own operations."""
    run = uuid.uuid4().hex[:8]
    missing = {kind: max(0, dataset.volume[kind] - (dataset.before.get(kind) or 0)) for kind in dataset.volume}
    for index in range(missing.get("sessions", 0)):
        await target.create_session(f"prodready-volume-{run}-{index}", app_name="prodready-volume",
                                    user_id=f"volume-user-{index % 50}")
    dataset.added["sessions"] = missing.get("sessions", 0)
    for index in range(missing.get("memories", 0)):
        await target.create_memory(f"volume:{run}:user-{index % 50}:notes", f"note-{index}", {"n": index},
                                   MEMORY_TYPES[index % len(MEMORY_TYPES)])
    dataset.added["memories"] = missing.get("memories", 0)
    corpus.mkdir(parents=True, exist_ok=True)
    for index in range(missing.get("documents", 0)):
        topic = ("sessions", "memory consolidation", "namespaces", "search", "audit")[index % 5]
        (corpus / f"volume-{run}-{index}.md").write_text(
            f"# Volume note {index} about {topic}\n\nA generated note on {topic} so that search runs over "
            f"a realistic index; note {index} of the readiness dataset.\n", encoding="utf-8")
        if (index + 1) % DOCUMENT_BATCH == 0:
            await target.sync_pending(corpus)
    if missing.get("documents", 0):
        await target.sync_pending(corpus)
    dataset.added["documents"] = missing.get("documents", 0)
