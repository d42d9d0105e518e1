"""EXPLAIN QUERY PLAN over the target's own statements: which ones an index does not serve.

A hot-path read must find its rows through an index (``SEARCH``), not walk a
whole table or index (``SCAN t``, ``SCAN t USING INDEX i``).  A temporary
B-tree sort is named alongside such a scan (it sorts every row); after a
``SEARCH`` it sorts only the rows found, e.g. one namespace's audit rows by
time, and is allowed.  Scans of a table-valued function or a virtual table
(``json_each``, FTS5) are how such tables are read, so they are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .sqlite import ProbeError, SQLiteProbe

TEMP_SORT = "USE TEMP B-TREE FOR ORDER BY"


def unindexed_steps(plan: Sequence[str]) -> list[str]:
    """The plan steps that betray a missing index."""
    scans = [
        step for step in plan
        if step.startswith("SCAN ") and step != "SCAN CONSTANT ROW" and "VIRTUAL TABLE" not in step
    ]
    return scans + [step for step in plan if step.startswith(TEMP_SORT)] if scans else []


@dataclass(frozen=True)
class StatementPlan:
    """One statement, where it came from, and what SQLite would do with it."""

    source: str
    sql: str
    plan: tuple[str, ...]
    error: str = ""

    @property
    def unindexed(self) -> list[str]:
        return unindexed_steps(self.plan)

    @property
    def ok(self) -> bool:
        return not self.error and not self.unindexed

    def to_figures(self) -> dict[str, Any]:
        return {"source": self.source, "sql": " ".join(self.sql.split()), "plan": list(self.plan),
                "ok": self.ok, **({"error": self.error} if self.error else {})}

    def describe(self) -> str:
        shown = " ".join(self.sql.split())
        shown = shown if len(shown) <= 160 else shown[:157] + "..."
        problem = self.error or "; ".join(self.unindexed)
        return f"{self.source}: {shown} -> {problem}"


async def explain(probe: SQLiteProbe, statements: Mapping[str, tuple[str, Sequence[Any]]]) -> list[StatementPlan]:
    """The plan of each ``name -> (sql, params)``; a statement SQLite refuses is a finding, not a crash."""
    plans = []
    for source, (sql, params) in statements.items():
        try:
            plans.append(StatementPlan(source, sql, tuple(await probe.query_plan(sql, params))))
        except ProbeError as exc:
            plans.append(StatementPlan(source, sql, (), str(exc)))
    return plans
