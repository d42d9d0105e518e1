"""Write an SQLite schema as a rule file, so that any later drift is a NO-GO naming what changed.

::

    python -m pytest_prodready.checks.snapshot app.db > prodready.toml
    python -m pytest_prodready.checks.snapshot app.db --pyproject >> pyproject.toml

The rules record the tables (``tables`` with ``exact``), each table's
columns and declared types (``table_schema``), every named index with its
definition (``index_definitions`` with ``exact``), the file pragmas, and one
``declared_foreign_keys`` rule.  Commit the file: a dropped column, a changed
type, an index recreated on other columns or a new table then fails its rule,
and the failure lists each change.  The database is opened read-only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from .schema_rules import SNAPSHOT_PRAGMAS, column_types, index_sql, table_names
from .sqlite import ProbeError, SQLiteProbe


async def read_schema(path: Path) -> dict[str, Any]:
    """Tables with their column types, indexes with their SQL, and the file pragmas."""
    async with SQLiteProbe(path) as probe:
        tables = {name: await column_types(probe, name) for name in await table_names(probe)}
        pragmas = {name: await probe.pragma(name) for name in SNAPSHOT_PRAGMAS}
        return {"tables": tables, "indexes": await index_sql(probe), "pragmas": pragmas}


def toml_value(value: Any) -> str:
    """A TOML string, integer, list or inline table (JSON's escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def rule_file(schema: Mapping[str, Any], database: str | None, store: str, pyproject: bool) -> str:
    """The snapshot as TOML: an optional store, then one rule per aspect of the schema."""
    prefix = "tool.prodready.consistency" if pyproject else "consistency"
    store_key = {} if database is None else {"store": store}
    sections: list[tuple[str, dict[str, Any]]] = []
    if database is not None:
        sections.append((f"stores.{toml_value(store)}", {"sqlite": database}))
    sections.append(("rules.schema_tables", {"check": "tables", **store_key, "expect": list(schema["tables"]),
                                             "exact": True}))
    for table, columns in schema["tables"].items():
        sections.append((f"rules.{toml_value('schema_table_' + table)}",
                         {"check": "table_schema", **store_key, "table": table, "columns": columns}))
    if schema["indexes"]:
        sections.append(("rules.schema_indexes", {"check": "index_definitions", **store_key,
                                                  "expect": schema["indexes"], "exact": True}))
    pragmas = {name: value for name, value in schema["pragmas"].items() if value is not None}
    sections.append(("rules.schema_pragmas", {"check": "pragmas", **store_key, "expect": pragmas}))
    sections.append(("rules.declared_foreign_keys", {**store_key}))
    lines = ["# Schema snapshot written by `python -m pytest_prodready.checks.snapshot`: commit it;",
             "# a rule that fails later names what changed since.", ""]
    for header, keys in sections:
        lines.append(f"[{prefix}.{header}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in keys.items()]
        lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_prodready.checks.snapshot",
                                     description="Print an SQLite database's schema as consistency rules (TOML).")
    parser.add_argument("database", type=Path, help="the SQLite file, opened read-only")
    parser.add_argument("--store", default="app", help="store name the rules read (default: app)")
    parser.add_argument("--path", help="the database path written in the file (default: as given)")
    parser.add_argument("--no-store", action="store_true",
                        help="declare no store: the rules then read the --prodready-sqlite database")
    parser.add_argument("--pyproject", action="store_true",
                        help="[tool.prodready.consistency] tables for pyproject.toml instead of prodready.toml")
    args = parser.parse_args(argv)
    if not args.database.is_file():
        print(f"ERROR: no SQLite file at {args.database}", file=sys.stderr)
        return 4
    try:
        schema = asyncio.run(read_schema(args.database))
    except ProbeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 4
    database = None if args.no_store else (args.path or str(args.database))
    sys.stdout.write(rule_file(schema, database, args.store, args.pyproject))
    return 0


if __name__ == "__main__":
    sys.exit(main())
