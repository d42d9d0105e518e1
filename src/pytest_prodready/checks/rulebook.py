"""Rule files: ``[tool.prodready.consistency]`` in pyproject.toml, or ``[consistency]`` in prodready.toml.

::

    [tool.prodready.consistency.stores.app]
    sqlite = "data/app.db"                  # relative to the file; ${VAR} read from the environment

    [tool.prodready.consistency.stores.graph]
    neo4j = "${PRODREADY_NEO4J_URI}"

    [tool.prodready.consistency.rules.orphaned_relationships]   # a rule named after its check
    store = "graph"

    [tool.prodready.consistency.rules.tasks_have_sessions]      # any name, with check = ...
    check = "orphans"
    store = "app"
    child = "tasks.session_id"
    parent = "sessions.id"

The whole file is validated when pytest collects it: any mistake is a
:class:`~.rules.RuleError` naming the file, the rule and the key.  Each rule
becomes one test item.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .rules import RuleError, RuleSpec, parse_rule, suggest
from ..timeouts import DEFAULT_TIMEOUTS, Timeouts
from .stores import SQLiteStore, Store, StoreError, parse_store

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
RULE_FILE = "prodready.toml"
TOP_KEYS = ("stores", "rules")
IMPLICIT_STORE = "--prodready-sqlite"


@dataclass(frozen=True)
class RuleBook:
    """A rule file's stores and rules, each rule already matched to its store."""

    path: Path
    stores: Mapping[str, Store]
    rules: tuple[RuleSpec, ...]
    placement: Mapping[str, tuple[str, str | None]]
    where: str = ""

    def sources(self, spec: RuleSpec, declared_as: str | None = None) -> tuple[Store, Store | None]:
        """The store a rule reads and, for parity rules, the one it compares against.

        ``declared_as`` is the file's rule a generated one (a declared foreign key) came from.
        """
        store, compare_to = self.placement[declared_as or spec.name]
        return self.stores[store], self.stores[compare_to] if compare_to else None


def consistency_table(path: Path) -> Mapping[str, Any] | None:
    """The file's consistency table, or None when it declares none."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleError(f"{path}: cannot read it as TOML ({exc})") from exc
    if path.name == PYPROJECT:
        data = data.get("tool", {}).get("prodready", {})
    if not isinstance(data, Mapping):
        return None
    return data.get("consistency")


def declares_rules(path: Path) -> bool:
    """Whether a file is a rule file pytest should collect; a broken prodready.toml is (to report it)."""
    if path.name == RULE_FILE:
        return True
    try:
        return path.name == PYPROJECT and consistency_table(path) is not None
    except RuleError:
        return False


def load(path: Path, shown: str, default_sqlite: Path | None = None, timeouts: Timeouts = DEFAULT_TIMEOUTS) -> RuleBook:
    """Parse and cross-check a rule file; ``shown`` is how errors name it."""
    where = f"{shown} [{'tool.prodready.' if path.name == PYPROJECT else ''}consistency]"
    table = consistency_table(path)
    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise RuleError(f"{where}: expected a table")
    for key in table:
        if key not in TOP_KEYS:
            raise RuleError(f"{where}: unknown key {key!r}{suggest(key, TOP_KEYS)} (expected one of: stores, rules)")
    stores = _stores(_section(table, "stores", where), where, path.parent, default_sqlite, timeouts)
    rules = tuple(parse_rule(name, rule, where) for name, rule in _section(table, "rules", where).items())
    placement = {spec.name: _place(spec, stores, where) for spec in rules}
    return RuleBook(path, stores, rules, placement, where)


def _section(table: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, Mapping):
        raise RuleError(f"{where}: key {key!r}: expected a table of named {key}")
    return value


def _stores(
    declared: Mapping[str, Any], where: str, base: Path, default_sqlite: Path | None, timeouts: Timeouts
) -> dict[str, Store]:
    try:
        stores = {name: parse_store(name, table, where, base, timeouts) for name, table in declared.items()}
    except StoreError as exc:
        raise RuleError(str(exc)) from exc
    if not stores and default_sqlite is not None:
        stores[IMPLICIT_STORE] = SQLiteStore(IMPLICIT_STORE, str(default_sqlite), base, timeout_s=timeouts.query_s)
    return stores


def _place(spec: RuleSpec, stores: Mapping[str, Store], where: str) -> tuple[str, str | None]:
    """Which store a rule reads, checked against what its check needs."""
    here = f"{where} rule {spec.name!r}"
    declared = ", ".join(stores) or "none"
    if spec.store is not None and spec.store not in stores:
        raise RuleError(f"{here}: key 'store': unknown store {spec.store!r}{suggest(spec.store, stores)} "
                        f"(declared: {declared})")
    if spec.store is None and len(stores) != 1:
        why = "no store is declared (add a stores table or pass --prodready-sqlite)" if not stores else (
            f"{len(stores)} stores are declared ({declared})")
        raise RuleError(f"{here}: key 'store' is required: {why}")
    name = spec.store or next(iter(stores))
    if spec.kind == "sqlite" and stores[name].kind != "sqlite":
        raise RuleError(f"{here}: key 'store': check {spec.check!r} reads SQLite, store {name!r} is Neo4j")
    if spec.kind == "neo4j" and stores[name].kind != "neo4j":
        raise RuleError(f"{here}: key 'store': check {spec.check!r} reads Neo4j, store {name!r} is SQLite")
    compare_to = spec.params.get("compare_to")
    if compare_to is not None and compare_to not in stores:
        raise RuleError(f"{here}: key 'compare_to': unknown store {compare_to!r}{suggest(compare_to, stores)} "
                        f"(declared: {declared})")
    return name, compare_to
