"""schema_check.surely_valid: never says "valid" where jsonschema says "invalid", and says it for ordinary tables.

A configured run checks its ``[tool.prodready]`` table with the quick check
first and imports jsonschema only when the quick check is not sure; a wrong
"valid" would let a bad key through, a missing one only costs the import.
"""

from __future__ import annotations

import datetime as dt
import random

import jsonschema
import pytest

from pytest_prodready.schema_check import surely_valid
from pytest_prodready.settings import CONFIG_SCHEMA

# Values of every TOML type, including the edges of the schema's bounds and types.
VALUES = [
    "", "x", "abc", "mine.adapter:build", "p50_ms", "go", "no-go", "maybe", 0, 1, -1, 7, 1_000_000, 1_000_001,
    1.0, 2.5, -0.5, float("nan"), float("inf"), True, False, [], ["a"], [""], [1], ["a", 2], {}, {"a": 1},
    {"a": -1}, {"a": "b"}, {"a": {"b": 1}}, {"a": {"b": -2}}, {"a": {"b": 1.0}}, {"sessions": 5},
    {"sessions": 5, "other": 1}, {"ddl": "x"}, {"tables": ["t"]}, {"tables": [""]}, {"json_columns": {"t": ["c"]}},
    {"json_columns": {"t": "c"}}, {"pragmas": {"journal_mode": "wal"}}, {"pragmas": []},
    {"ci": {"escalate_warnings": True}}, {"ci": {"escalate_warnings": 1}}, {"ci": {"waive_unsupported": ["x"]}},
    {"ci": {"waive_unsupported": [""]}}, {"ci": {"gate": {"p95_ms": 5}}}, {"ci": {"gate": 5}},
    dt.date(2024, 1, 1), dt.time(12, 0),
]
KEYS = [*CONFIG_SCHEMA["properties"], "unknown_key", "Target"]


def is_valid(table: dict) -> bool:
    return not any(jsonschema.Draft202012Validator(CONFIG_SCHEMA).iter_errors(table))


def random_tables(count: int, seed: int = 14) -> list[dict]:
    rng = random.Random(seed)
    return [{key: rng.choice(VALUES) for key in rng.sample(KEYS, rng.randint(1, 3))} for _ in range(count)]


ORDINARY = [
    {"require": {"smoke": {"bench": 2000}}},
    {"target": "mine.adapter:build", "profile": "staging", "json": "out/ready.json", "html": "out/ready.html",
     "sqlite": "app.db", "volume": {"sessions": 10}},
    {"profile": "ci", "profiles": {"ci": {"session_retrieval": {"p99_ms": 100}}, "production": {"escalate_warnings": True}}},
    {"max_regression": "15%", "min_regression": "0.5ms", "regression_metric": "p95_ms", "allow_writes": False,
     "connect_timeout": 2, "query_timeout": 1.5, "canary_inconclusive": "no-go", "save_baseline": "main"},
    {"schema": {"ddl": "schema.sql", "tables": ["sessions"], "json_columns": {"memories": ["meta"]}, "pragmas": {"a": 1}},
     "consistency": {"stores": {"app": {"sqlite": "app.db"}}}},
]


def test_never_valid_where_jsonschema_says_invalid():
    tables = random_tables(3000)
    wrong = [table for table in tables if surely_valid(table, CONFIG_SCHEMA) and not is_valid(table)]
    assert wrong == []
    decided = sum(surely_valid(table, CONFIG_SCHEMA) for table in tables)
    valid = sum(is_valid(table) for table in tables)
    assert valid > 100 and decided >= 0.9 * valid, (decided, valid)  # the samples hold enough of both kinds


@pytest.mark.parametrize("table", ORDINARY, ids=lambda t: ",".join(t))
def test_ordinary_tables_are_decided_without_jsonschema(table):
    assert is_valid(table)
    assert surely_valid(table, CONFIG_SCHEMA)


@pytest.mark.parametrize(
    "table",
    [{"target": "ab"}, {"unknown_key": 1}, {"volume": {"sessions": -1}}, {"volume": {"sessions": 1_000_001}},
     {"allow_writes": 1}, {"regression_metric": "p42"}, {"require": {"smoke": {"x": True}}}, {"schema": {"tables": [""]}},
     {"profiles": {"ci": {"waive_unsupported": "x"}}}],
    ids=repr,
)
def test_mistakes_are_left_to_jsonschema(table):
    assert not is_valid(table)
    assert not surely_valid(table, CONFIG_SCHEMA)


def test_unknown_keywords_and_doubtful_values_are_not_decided():
    assert not surely_valid({"a": 1}, {"type": "object", "required": ["a"]})
    assert not surely_valid(1.0, {"type": "integer"})  # jsonschema accepts it; the quick check need not
    assert not surely_valid(1, {"enum": [1, 2]})
