"""Consistency rules as data: a named check, its parameters, a threshold and a severity.

A rule comes from the ``consistency`` fixture or from a rule file
(``[tool.prodready.consistency]`` or ``prodready.toml``, see ``rulebook``).
Parsing checks every key before a single rule runs, so a typo is a one-line
error naming where it was, the rule and the key; judging turns a
:class:`~.finding.Finding` into an :class:`Outcome` whose message reads
``orphaned_relationships: 3 > 0 (threshold == 0; sample: ...)``.

The graph rules' default thresholds are seed 001's data-consistency metrics.
"""

from __future__ import annotations

import difflib
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from .finding import DEFAULT_SAMPLE, Finding, describe_row, plain
from .graph import COUNT_TYPES
from .sqlite import FILE_PRAGMAS

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_BREACH = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_THRESHOLD = re.compile(r"^\s*(==|=|!=|<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*%?\s*$")
SEVERITIES = ("fail", "warn")
SHOWN_SAMPLE = 3


class RuleError(ValueError):
    """A rule that cannot run as written; the message is one line naming rule and key."""


@dataclass(frozen=True)
class Threshold:
    """``op limit``: the value a check measured must satisfy it to pass."""

    op: str
    limit: float

    def holds(self, value: float) -> bool:
        return OPERATORS[self.op](value, self.limit)

    def breach(self, value: float, unit: str = "") -> str:
        """How a value misses the limit, e.g. ``3 > 0`` for ``== 0``."""
        if self.op in ("==", "!="):
            relation = ">" if value > self.limit else "<" if value < self.limit else "=="
        else:
            relation = _BREACH[self.op]
        return f"{number(value)}{unit} {relation} {number(self.limit)}{unit}"

    def __str__(self) -> str:
        return f"{self.op} {number(self.limit)}"


def number(value: float) -> str:
    """Integers without a fraction, other values with at most two decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def parse_threshold(text: Any, where: str) -> Threshold:
    """``'< 5'``, ``'== 0'``, ``'> 95 %'`` -> Threshold; anything else is a RuleError."""
    match = _THRESHOLD.match(text) if isinstance(text, str) else None
    if match is None:
        raise RuleError(f"{where}: key 'threshold': expected a comparison like '== 0', '< 5' or '> 95', got {text!r}")
    op = "==" if match.group(1) == "=" else match.group(1)
    return Threshold(op, float(match.group(2)))


@dataclass(frozen=True)
class Between:
    """``min .. max``: a value (a row count) must lie within both bounds."""

    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high

    def breach(self, value: float, unit: str = "") -> str:
        side = f"< {number(self.low)}" if value < self.low else f"> {number(self.high)}"
        return f"{number(value)}{unit} {side}{unit}"

    def __str__(self) -> str:
        return f"between {number(self.low)} and {number(self.high)}"


@dataclass(frozen=True)
class CheckType:
    """A kind of check: which store it needs, its parameters and its shipped threshold.

    ``kind`` is ``sqlite``, ``neo4j``, ``graph`` (either store, through a
    graph backend) or ``parity``.  ``derive`` builds the threshold from the
    rule's own keys (``max_age``, ``min`` / ``max``) when it gives none.
    """

    name: str
    kind: str
    threshold: str
    summary: str
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    unit: str = ""
    derive: Callable[[Mapping[str, Any], str], "Threshold | Between | None"] | None = None


_TEXT: dict[str, Any] = {"type": "string", "minLength": 1}
_TEXTS: dict[str, Any] = {"anyOf": [_TEXT, {"type": "array", "items": _TEXT, "minItems": 1}]}
_TEXT_LIST: dict[str, Any] = {"type": "array", "items": _TEXT, "minItems": 1}
_COLUMN: dict[str, Any] = {"type": "string", "pattern": r"^[^.]+\.[^.]+$"}
_NUMBER: dict[str, Any] = {"type": "number"}
_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
_FLAG: dict[str, Any] = {"type": "boolean"}
_VALUES: dict[str, Any] = {"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1}
_NAMED_TEXT: dict[str, Any] = {"type": "object", "minProperties": 1, "additionalProperties": _TEXT}
_PRAGMA_VALUES: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {"type": ["string", "integer", "boolean"]},
}
_WHERE = {"where": _TEXT}
_TABLE_COLUMN = {"table": _TEXT, "column": _TEXT, **_WHERE}
_NODES = {"label": _TEXT, "type": _TEXT}


def _freshness(params: Mapping[str, Any], here: str) -> Threshold:
    from ..limits import ThresholdError, parse_duration

    try:
        return Threshold("<=", parse_duration(params["max_age"], f"{here}: key 'max_age'"))
    except ThresholdError as exc:
        raise RuleError(str(exc)) from None


def _row_count(params: Mapping[str, Any], here: str) -> Threshold | Between | None:
    low, high = params.get("min"), params.get("max")
    if low is not None and high is not None:
        if low > high:
            raise RuleError(f"{here}: key 'min': {low} is above max {high}")
        return Between(low, high)
    if low is None and high is None:
        return None
    return Threshold(">=", low) if low is not None else Threshold("<=", high)


CHECKS: dict[str, CheckType] = {
    check.name: check
    for check in (
        CheckType("integrity_check", "sqlite", "== 0", "problems PRAGMA integrity_check reports"),
        CheckType("quick_check", "sqlite", "== 0", "problems PRAGMA quick_check reports"),
        CheckType("foreign_key_check", "sqlite", "== 0", "PRAGMA foreign_key_check violations, per table",
                  {"table": _TEXT}),
        CheckType("tables", "sqlite", "== 0", "expected tables missing (with exact, unexpected ones too)",
                  {"expect": _TEXT_LIST, "exact": _FLAG}, ("expect",)),
        CheckType("indexes", "sqlite", "== 0", "expected indexes that are missing",
                  {"expect": _TEXT_LIST}, ("expect",)),
        CheckType("pragmas", "sqlite", "== 0", "pragmas whose value differs from the expected one",
                  {"expect": _PRAGMA_VALUES}, ("expect",)),
        CheckType("orphans", "sqlite", "== 0", "child rows whose parent row is missing",
                  {"child": _COLUMN, "parent": _COLUMN, **_WHERE}, ("child", "parent")),
        CheckType("declared_foreign_keys", "sqlite", "== 0",
                  "one orphans rule per foreign key the schema declares (PRAGMA foreign_key_list)",
                  {"tables": _TEXT_LIST}),
        CheckType("duplicates", "sqlite", "== 0", "groups of rows sharing a key",
                  {"table": _TEXT, "columns": _TEXTS, **_WHERE}, ("table", "columns")),
        CheckType("nulls", "sqlite", "== 0", "rows with a NULL (or, with blank, empty) value",
                  {"table": _TEXT, "columns": _TEXTS, "blank": _FLAG, **_WHERE}, ("table", "columns")),
        CheckType("range", "sqlite", "== 0", "rows whose value lies outside [min, max]",
                  {**_TABLE_COLUMN, "min": _NUMBER, "max": _NUMBER}, ("table", "column"), one_of=("min", "max")),
        CheckType("allowed_values", "sqlite", "== 0", "rows whose non-NULL value is not one of the listed values",
                  {**_TABLE_COLUMN, "values": _VALUES}, ("table", "column", "values")),
        CheckType("json_valid", "sqlite", "== 0", "rows whose non-NULL text is not JSON (or fails a JSON Schema)",
                  {**_TABLE_COLUMN, "schema": {"type": "object"}}, ("table", "column")),
        CheckType("pattern", "sqlite", "== 0", "rows whose non-NULL value the regular expression does not match",
                  {**_TABLE_COLUMN, "regex": _TEXT}, ("table", "column", "regex")),
        CheckType("row_condition", "sqlite", "== 0", "rows where a SQL condition over the row is false",
                  {"table": _TEXT, "condition": _TEXT, **_WHERE}, ("table", "condition")),
        CheckType("failed_rows", "sqlite", "== 0", "rows a read-only SELECT returns", {"query": _TEXT}, ("query",)),
        CheckType("freshness", "sqlite", "<= 0", "age in seconds of the newest timestamp",
                  {**_TABLE_COLUMN, "max_age": {"type": ["string", "integer"]}}, ("table", "column", "max_age"),
                  unit=" s", derive=_freshness),
        CheckType("row_count", "sqlite", "> 0", "rows in the table (within min and max)",
                  {"table": _TEXT, "min": _COUNT, "max": _COUNT, **_WHERE}, ("table",), derive=_row_count),
        CheckType("table_schema", "sqlite", "== 0", "columns missing, of another declared type or (exact) unexpected",
                  {"table": _TEXT, "columns": _NAMED_TEXT, "exact": _FLAG}, ("table", "columns")),
        CheckType("index_definitions", "sqlite", "== 0", "indexes missing, defined otherwise or (exact) unexpected",
                  {"expect": _NAMED_TEXT, "exact": _FLAG}, ("expect",)),
        CheckType("query_plan", "sqlite", "== 0", "named queries that scan a table or build a temp B-tree",
                  {"queries": _NAMED_TEXT}, ("queries",)),
        CheckType("graph_labels", "neo4j", "== 0", "labels and relationship types with no node or relationship",
                  {"labels": _TEXT_LIST, "types": _TEXT_LIST}, one_of=("labels", "types")),
        CheckType("graph_property_exists", "neo4j", "== 0", "nodes (or relationships) lacking a property",
                  {**_NODES, "properties": _TEXTS}, ("properties",), one_of=("label", "type")),
        CheckType("graph_unique", "neo4j", "== 0", "groups of nodes sharing the values of the properties",
                  {"label": _TEXT, "properties": _TEXTS}, ("label", "properties")),
        CheckType("graph_allowed_values", "neo4j", "== 0", "nodes (or relationships) whose property is not listed",
                  {**_NODES, "property": _TEXT, "values": _VALUES}, ("property", "values"), one_of=("label", "type")),
        CheckType("orphaned_relationships", "graph", "== 0", "relationships whose endpoint is not a live entity"),
        CheckType("inconsistent_confidence", "graph", "< 5",
                  "relationships with confidence outside [0, 1] or >= 0.8 without evidence"),
        CheckType("missing_evidence", "graph", "< 10", "relationships with no evidence"),
        CheckType("duplicate_semantic_ids", "graph", "< 5", "groups of entities sharing a semantic id"),
        CheckType("validation_success_rate", "graph", "> 95", "relationships passing every relationship rule",
                  unit="%"),
        CheckType("migration_completeness", "parity", "== 0", "types whose counts differ beyond the tolerance",
                  {"compare_to": _TEXT, "tolerance": {"type": "number", "minimum": 0, "maximum": 1},
                   "types": {"type": "array", "items": {"enum": list(COUNT_TYPES)}, "minItems": 1,
                             "uniqueItems": True}},
                  ("compare_to",)),
    )
}

RULE_KEYS = ("check", "threshold", "severity", "store", "sample", "description")


@dataclass(frozen=True)
class RuleSpec:
    """One named rule, validated: what to check, where, and the limit it must hold."""

    name: str
    check: str
    params: Mapping[str, Any]
    threshold: Threshold | Between
    severity: str = "fail"
    store: str | None = None
    sample: int = DEFAULT_SAMPLE
    description: str = ""

    @property
    def kind(self) -> str:
        return CHECKS[self.check].kind


def suggest(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a known word is close to a typo."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_rule(name: str, table: Any, where: str, *, file_pragmas_only: bool = True) -> RuleSpec:
    """Validate one rule's table; the check defaults to the rule's name.

    ``file_pragmas_only`` rejects per-connection pragmas: a rule file reads a
    database file, whose connection settings are the checker's, not the app's.
    """
    here = f"{where} rule {name!r}"
    if not isinstance(table, Mapping):
        raise RuleError(f"{here}: expected a table of keys, got {type(table).__name__}")
    check = _check_type(name, table, here)
    allowed = (*RULE_KEYS, *check.params)
    for key in table:
        if key not in allowed:
            raise RuleError(f"{here}: unknown key {key!r}{suggest(key, allowed)} (expected one of: {', '.join(allowed)})")
    params = {key: table[key] for key in check.params if key in table}
    _validate_params(check, params, here)
    if file_pragmas_only and check.name == "pragmas":
        _reject_connection_pragmas(params["expect"], here)
    derived = check.derive(params, here) if check.derive else None
    if "threshold" in table or derived is None:
        threshold: Threshold | Between = parse_threshold(table.get("threshold", check.threshold), here)
    else:
        threshold = derived
    return RuleSpec(
        name=name,
        check=check.name,
        params=params,
        threshold=threshold,
        severity=_choice(table, "severity", SEVERITIES, "fail", here),
        store=_text(table, "store", here),
        sample=_sample(table, here),
        description=_text(table, "description", here) or "",
    )


def make_rule(check: str, params: Mapping[str, Any], *, name: str | None = None,
              threshold: str | None = None, severity: str = "fail", sample: int = DEFAULT_SAMPLE) -> RuleSpec:
    """A rule built in code (the fixture's assertions), validated as a rule file's would be."""
    table: dict[str, Any] = {"check": check, **params, "severity": severity, "sample": sample}
    if threshold is not None:
        table["threshold"] = threshold
    return parse_rule(name or check, table, "consistency", file_pragmas_only=False)


def _check_type(name: str, table: Mapping[str, Any], here: str) -> CheckType:
    known = ", ".join(sorted(CHECKS))
    if "check" in table:
        value = table["check"]
        if not isinstance(value, str) or value not in CHECKS:
            hint = suggest(value, CHECKS) if isinstance(value, str) else ""
            raise RuleError(f"{here}: key 'check': unknown check type {value!r}{hint} (known: {known})")
        return CHECKS[value]
    if name not in CHECKS:
        raise RuleError(f"{here}: key {name!r}: unknown rule name, and no 'check' key says which check it runs"
                        f"{suggest(name, CHECKS)} (known checks: {known})")
    return CHECKS[name]


def _validate_params(check: CheckType, params: Mapping[str, Any], here: str) -> None:
    import jsonschema  # only runs that declare rules pay for the import

    for key in check.required:
        if key not in params:
            raise RuleError(f"{here}: key {key!r} is required by check {check.name!r}")
    if check.one_of and not any(key in params for key in check.one_of):
        raise RuleError(f"{here}: check {check.name!r} needs one of the keys {', '.join(map(repr, check.one_of))}")
    for key, value in params.items():
        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(check.params[key]).iter_errors(value))
        if error is not None:
            raise RuleError(f"{here}: key {key!r}: {error.message}")
    if "regex" in params:
        try:
            re.compile(params["regex"])
        except re.error as exc:
            raise RuleError(f"{here}: key 'regex': not a regular expression: {exc}") from None
    if "schema" in params:
        try:
            jsonschema.Draft202012Validator.check_schema(params["schema"])
        except jsonschema.exceptions.SchemaError as exc:
            raise RuleError(f"{here}: key 'schema': not a JSON Schema: {exc.message}") from None


def _reject_connection_pragmas(expect: Mapping[str, Any], here: str) -> None:
    for pragma in expect:
        if pragma not in FILE_PRAGMAS:
            raise RuleError(
                f"{here}: key 'expect.{pragma}': {pragma} is set per connection, not stored in the database file, "
                f"so a rule file cannot see the application's value; check it on the application's connection "
                f"with consistency.assert_pragmas(conn, {pragma}=...) (file pragmas: {', '.join(sorted(FILE_PRAGMAS))})"
            )


def _choice(table: Mapping[str, Any], key: str, options: tuple[str, ...], default: str, here: str) -> str:
    value = table.get(key, default)
    if value not in options:
        raise RuleError(f"{here}: key {key!r}: expected one of {', '.join(options)}, got {value!r}")
    return value


def _text(table: Mapping[str, Any], key: str, here: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise RuleError(f"{here}: key {key!r}: expected a non-empty string, got {value!r}")
    return value


def _sample(table: Mapping[str, Any], here: str) -> int:
    value = table.get("sample", DEFAULT_SAMPLE)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise RuleError(f"{here}: key 'sample': expected an integer from 0 to 1000, got {value!r}")
    return value


@dataclass(frozen=True)
class Outcome:
    """A judged rule: the figures a report shows and the line a failure prints."""

    rule: str
    check: str
    backend: str
    value: float
    threshold: Threshold | Between
    passed: bool
    severity: str = "fail"
    unit: str = ""
    sample: tuple[Mapping[str, Any], ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def message(self) -> str:
        if self.passed:
            return f"{self.rule}: {number(self.value)}{self.unit} (threshold {self.threshold}) ok"
        parts = [f"threshold {self.threshold}"]
        if self.note:
            parts.append(self.note)
        if self.sample:
            shown = "; ".join(describe_row(row) for row in self.sample[:SHOWN_SAMPLE])
            more = len(self.sample) - SHOWN_SAMPLE
            parts.append(f"sample: {shown}" + (f"; +{more} more" if more > 0 else ""))
        return f"{self.rule}: {self.threshold.breach(self.value, self.unit)} ({'; '.join(parts)})"

    def to_figures(self) -> dict[str, Any]:
        """Plain, JSON-safe data for the readiness reports."""
        return {
            "rule": self.rule,
            "check": self.check,
            "backend": self.backend,
            "value": plain(self.value),
            "threshold": str(self.threshold),
            "passed": self.passed,
            "severity": self.severity,
            "sample": plain(list(self.sample)),
            "details": plain(dict(self.details)),
            "message": self.message,
        }


def judge(spec: RuleSpec, finding: Finding, backend: str) -> Outcome:
    """Hold what a check measured against the rule's threshold."""
    value = finding.value
    return Outcome(
        rule=spec.name,
        check=spec.check,
        backend=backend,
        value=value,
        threshold=spec.threshold,
        passed=spec.threshold.holds(value),
        severity=spec.severity,
        unit=CHECKS[spec.check].unit,
        sample=tuple(finding.sample),
        details=finding.details,
        note=finding.note,
    )
