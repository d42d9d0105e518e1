"""What each case ran against, so every report can say what was tested.

A case's figures keep ``systems``: one short description per system it
touched, e.g. ``target pytest_prodready.reference:create_target`` (only when
the case used the ``target`` fixture the plugin built), ``sqlite
/data/app.db``, ``http://127.0.0.1:8080`` (API, load and canary cases),
``store app: sqlite /data/app.db`` (a declared rule).  The run's list is the
union in first-seen order.  Pure: no pytest import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping, MutableMapping

FIGURE = "systems"


def note(figures: MutableMapping[str, Any], *systems: str) -> None:
    """Add ``systems`` to a case's figures, each once; a case that touched none gets no list.

    Most cases of a large run touch no system the plugin built: an empty
    list in each would be two more objects per case (in the report and the
    record) for the garbage collector to walk until the run ends.
    """
    new = [system for system in systems if system]
    if not new:
        return
    known = figures.setdefault(FIGURE, [])
    known.extend(system for system in new if system not in known)


def target_factory(factory: str) -> str:
    return f"target {factory}"


def sqlite_file(path: str | os.PathLike[str]) -> str:
    return f"sqlite {Path(path).resolve()}"


def describe_store(source: Any) -> str:
    """A consistency source as reports name it: a declared store by name and place, a path, a URI."""
    from .checks.graph import Neo4jGraph, SQLiteGraph
    from .checks.sqlite import SQLiteProbe
    from .checks.stores import Neo4jStore, SQLiteStore, is_neo4j_uri

    if isinstance(source, SQLiteStore):
        return f"store {source.name}: {sqlite_file(source.resolved())}"
    if isinstance(source, Neo4jStore):
        return f"store {source.name}: neo4j {source.uri}"
    if isinstance(source, SQLiteProbe):
        return sqlite_file(source.path) if source.owns_connection else "sqlite (the application's connection)"
    if isinstance(source, SQLiteGraph):
        return describe_store(source.probe)
    if isinstance(source, Neo4jGraph) or is_neo4j_uri(source):
        return getattr(source, "label", None) or f"neo4j {source}"
    if isinstance(source, (str, os.PathLike)):
        return sqlite_file(source)
    return getattr(source, "label", None) or type(source).__name__


def of_cases(cases: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every system the run's cases touched, in first-seen order (cases as the JSON report holds them)."""
    found: dict[str, None] = {}
    for case in cases:
        found.update(dict.fromkeys(case.get("figures", {}).get(FIGURE, ())))
    return list(found)


def used_factory(systems: Iterable[str], factory: str) -> str | None:
    """The target factory, when some case used it; else None."""
    return factory if target_factory(factory) in systems else None


def shown(figures: Mapping[str, Any]) -> str:
    """A case's systems on one line ('' when it named none)."""
    return ", ".join(figures.get(FIGURE, ()))


def header(touched: Iterable[str]) -> str:
    """How a report's header names what the run tested."""
    listed = ", ".join(touched)
    return f"ran against {listed}" if listed else "no case named the system it ran against"
