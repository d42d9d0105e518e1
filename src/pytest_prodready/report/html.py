"""The readiness sections placed on top of pytest-html's report.

They render the same document the JSON report holds, so the page and the
file can never disagree.  Top to bottom: the verdict and why, the executive
summary, a table per category, performance gates with their charts and the
baseline comparison, canary comparisons with a live baseline, consistency
rules with offenders, load tests, the issues encountered and the environment.
"""

from __future__ import annotations

from html import escape
from typing import Any, Iterable, Mapping

from .. import systems
from ..verdict import category_passed, ran_of
from .figures import milliseconds
from . import rows as shared_rows
from .redaction import Redactor

GO, NO_GO, WARN = "#1a7f37", "#cf222e", "#9a6700"
STYLE = (
    "<style>.prodready table{border-collapse:collapse;margin:6px 0 14px}"
    ".prodready td,.prodready th{border:1px solid #d0d7de;padding:3px 8px;text-align:left}"
    ".prodready .ok{color:#1a7f37}.prodready .bad{color:#cf222e;font-weight:bold}"
    ".prodready .warn{color:#9a6700;font-weight:bold}.prodready h3{margin:14px 0 4px}</style>"
)


def summary_blocks(document: Mapping[str, Any]) -> list[str]:
    """Every readiness section, as HTML strings for pytest-html's summary prefix."""
    cases = document["cases"]
    sections = [
        _verdict(document),
        _executive_summary(document),
        _categories(document["categories"]),
        _gates([c for c in cases if "latency" in c["figures"]]),
        _baseline([c for c in cases if "baseline" in c["figures"]]),
        _canary([c for c in cases if "canary" in c["figures"]]),
        _consistency([c for c in cases if c["figures"].get("consistency")]),
        _load([c for c in cases if "load" in c["figures"]]),
        _api_readiness([c for c in cases if "api_readiness" in c["figures"]]),
        _issues([c for c in cases if c["outcome"] != "passed"]),
        _environment(document["environment"]),
    ]
    return [STYLE, '<div class="prodready" id="prodready">', *filter(None, sections), "</div>"]


def _verdict(document: Mapping[str, Any]) -> str:
    verdict = document["verdict"]
    colour = NO_GO if not verdict["go"] else WARN if verdict["warnings"] else GO
    reasons = _list(verdict["reasons"])
    warnings = _warning_list(verdict["warnings"])
    suite = document.get("baseline_suite")
    note = f'<p id="prodready-baseline-suite">{escape(suite["message"])}</p>' if suite and not suite["regressed"] else ""
    categories = document["categories"]
    passed, required = sum(c["passed"] for c in categories), sum(c["required"] for c in categories)
    return (
        f'<div id="prodready-verdict" data-decision="{verdict["decision"]}" '
        f'style="border:3px solid {colour};padding:8px 12px;margin:8px 0">'
        f'<h2 style="color:{colour};margin:0">READINESS: {escape(verdict["headline"])}'
        f'{" (incomplete)" if verdict["incomplete"] else ""}</h2>'
        f"<p>{passed} cases passed, {required} required</p>{reasons}{warnings}{note}</div>"
    )


def _executive_summary(document: Mapping[str, Any]) -> str:
    cases, env = document["cases"], document["environment"]
    passed = sum(1 for c in cases if c["outcome"] == "passed")
    domains = sorted({c["domain"] for c in cases})
    return (
        '<h3 id="prodready-summary">Executive summary</h3>'
        f"<p>{passed} of {len(cases)} readiness cases passed across {len(domains)} domain(s) "
        f"({escape(', '.join(domains)) or 'none'}); decision <b>{document['verdict']['decision']}</b> "
        f"under profile <b>{escape(env['profile'])}</b>, in {env['duration_s']:.1f} s; "
        f"{escape(systems.header(env.get('systems', ())))}.</p>"
    )


def _categories(categories: Iterable[Mapping[str, Any]]) -> str:
    rows = [(*shared_rows.category_cells(c), _category_state(c)) for c in categories]
    return _table("prodready-categories", "Categories", shared_rows.CATEGORY_HEAD, rows)


_CATEGORY_CLASSES = {shared_rows.READY: "ok", shared_rows.READY_WARNED: "warn", shared_rows.NOT_READY: "bad"}


def _category_state(category: Mapping[str, Any]) -> "_Markup":
    state = shared_rows.category_state(category)
    return _badge(_CATEGORY_CLASSES[state], state)


def _warning_list(warnings: Iterable[Mapping[str, str]]) -> str:
    items = [f'<li><span class="warn">warning</span> <code>{escape(w["nodeid"])}</code> {escape(w["message"])}</li>'
             for w in warnings]
    return f'<ul id="prodready-warnings">{"".join(items)}</ul>' if items else ""


def _gates(cases: list[Mapping[str, Any]]) -> str:
    if not cases:
        return ""
    from . import charts  # like the other sections' helpers: imported by a run that has such cases

    parts = ['<h3 id="prodready-gates">Performance gates</h3>']
    for case in cases:
        fig = case["figures"]
        lat, limits, warn_limits = fig["latency"], fig.get("limits", {}), fig.get("warn_limits", {})
        cells = " ".join(
            f"{key[:-3]} <b>{milliseconds(lat[key])}</b>{_limit(limits.get(key))}{_limit(warn_limits.get(key), 'warn at')}"
            for key in shared_rows.GATE_FIGURES
        )
        parts.append(
            f'<div class="prodready-gate" data-case="{escape(case["nodeid"])}">'
            f"<p>{_outcome(case['outcome'])} <code>{escape(case['nodeid'])}</code>"
            f"{' gate ' + escape(fig['gate']) if fig.get('gate') else ''}: n={lat['n']}; {cells} (ms); "
            f"{lat.get('ops_per_s', 0):.0f} ops/s</p>{charts.latency_histogram(fig.get('samples_ms', []), limits)}</div>"
        )
    return "".join(parts)


def _baseline(cases: list[Mapping[str, Any]]) -> str:
    rows = [
        (c["nodeid"], b["metric"], milliseconds(b["baseline_ms"]), milliseconds(b["measured_ms"]), _change(b),
         _state(not b["regressed"], b.get("decision", "within bound"), f"regressed (> {b['bound_pct']:g} %)"))
        for c in cases
        for b in [c["figures"]["baseline"]]
    ]
    title = f"Performance before / after (baseline {escape(cases[0]['figures']['baseline']['name'])})" if cases else ""
    return _table("prodready-baseline", title, ("case", "metric", "before (ms)", "after (ms)", "change", "result"), rows)


def _change(figures: Mapping[str, Any]) -> str:
    """The relative change, with its bootstrap interval when the baseline kept samples."""
    text = f"{figures['change_pct']:+.1f} %"
    if "ci_low_pct" in figures:
        from ..gates.comparison import interval_text

        text += f" ({interval_text(figures['ci_low_pct'], figures['ci_high_pct'])})"
    return text


def _canary(cases: list[Mapping[str, Any]]) -> str:
    if not cases:
        return ""
    from .canary_text import canary_bound, canary_change, canary_figure, canary_plan, canary_ratio

    parts = ['<h3 id="prodready-canary">Canary comparisons</h3>']
    for case in cases:
        fig = case["figures"]["canary"]
        rows = [
            (c["metric"], canary_figure(c, "baseline"), canary_figure(c, "candidate"),
             canary_ratio(c), canary_change(c), canary_bound(c), _canary_row_decision(c["decision"]))
            for c in fig["comparisons"]
        ]
        table = _table_markup(
            ("metric", "baseline", "candidate", "ratio", "change", "bound", "decision"), rows,
            'class="prodready-canary-table"', [_CANARY_ROW_CLASSES.get(c["decision"], "") for c in fig["comparisons"]],
        )
        parts.append(
            f'<div class="prodready-canary-case" data-case="{escape(case["nodeid"])}" '
            f'data-decision="{escape(fig["decision"])}">'
            f"<p>{_outcome(case['outcome'])} <code>{escape(case['nodeid'])}</code>: {_canary_decision(fig)}<br>"
            f"baseline <code>{escape(fig['baseline_url'])}</code>, "
            f"candidate <code>{escape(fig['candidate_url'])}</code>"
            f"<br>{escape(canary_plan(fig))}<br>{escape(_canary_sides(fig))}</p>{table}</div>"
        )
    return "".join(parts)


_CANARY_CLASSES = {"within bound": "ok", "inconclusive": "warn", "regressed": "bad", "no baseline": "bad", "not measured": "bad"}
_CANARY_ROW_CLASSES = {"inconclusive": "warn", "regressed": "bad"}


def _canary_row_decision(decision: str) -> Any:
    """A coloured badge for a gated decision; "not gated" stays plain text."""
    css_class = _CANARY_CLASSES.get(decision)
    return _badge(css_class, decision) if css_class else decision


def _canary_decision(fig: Mapping[str, Any]) -> _Markup:
    """The case's decision; an inconclusive one fails under the no-go policy."""
    decision, policy = fig["decision"], fig.get("inconclusive_policy", "go")
    if decision == "inconclusive":
        from .canary_text import canary_decision

        return _badge("bad" if policy == "no-go" else "warn", canary_decision(fig))
    return _badge(_CANARY_CLASSES.get(decision, "bad"), decision)


def _canary_sides(fig: Mapping[str, Any]) -> str:
    parts = []
    for name in ("baseline", "candidate"):
        side = fig["sides"][name]
        examples = "; ".join(side.get("error_examples", []))
        brief = f"{name} {side['requests']} requests / {side['errors']} errors"
        parts.append(f"{brief} ({examples})" if examples else brief)
    return ", ".join(parts)


def _consistency(cases: list[Mapping[str, Any]]) -> str:
    rows = [
        (o["rule"], o["backend"], o["value"], o["threshold"], _rule_state(o["passed"], c["outcome"]),
         "; ".join(" ".join(f"{k}={v}" for k, v in row.items()) for row in o.get("sample", [])[:5]))
        for c in cases
        for o in c["figures"]["consistency"]
    ]
    return _table("prodready-consistency", "Consistency rules",
                  ("rule", "backend", "value", "threshold", "result", "sample of offenders"), rows)


def _load(cases: list[Mapping[str, Any]]) -> str:
    if not cases:
        return ""
    from . import charts

    parts = ['<h3 id="prodready-load">Load tests</h3>']
    for case in cases:
        load = case["figures"]["load"]
        parts.append(
            f'<div class="prodready-load-case"><p>{_state(case["outcome"] == "passed", "pass", case["outcome"])} '
            f"<code>{escape(case['nodeid'])}</code>: {load.get('requests', 0):,} requests, "
            f"{load.get('rps', 0):.1f} req/s, error ratio {100 * load.get('error_ratio', 0):.2f} %, "
            f"p50 {load.get('p50_ms', 0):.0f} / p95 {load.get('p95_ms', 0):.0f} / p99 {load.get('p99_ms', 0):.0f} ms</p>"
            f"{charts.timeline(load.get('timeline', []), ('rps', 'p95_ms', 'failures_per_s'))}</div>"
        )
    return "".join(parts)


def _api_readiness(cases: list[Mapping[str, Any]]) -> str:
    """One row per API check a case ran: where, how many problems, the first few."""
    rows = [
        (c["nodeid"], check, systems.shown(c["figures"]) or "-", _rule_state(record["passed"], c["outcome"]),
         record.get("problems_total", len(record["problems"])), "; ".join(record["problems"][:5]))
        for c in cases
        for check, record in c["figures"]["api_readiness"].items()
    ]
    return _table("prodready-api", "API readiness", ("case", "check", "ran against", "result", "problems", "first problems"),
                  rows)


def _issues(cases: list[Mapping[str, Any]]) -> str:
    if not cases:
        return '<h3 id="prodready-issues">Issues encountered</h3><p>None.</p>'
    items = [
        f"<li>{_outcome(c['outcome'])} <code>{escape(c['nodeid'])}</code> "
        f"{escape(c['message'])}{_ran_against(c['figures'])}</li>"
        for c in cases
    ]
    return f'<h3 id="prodready-issues">Issues encountered</h3><ul>{"".join(items)}</ul>'


def _environment(env: Mapping[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items())
    rows = [
        ("profile", env["profile"]), ("target", env.get("target") or "- (no case used the target fixture)"),
        ("ran against", ", ".join(env.get("systems", ())) or "-"), ("sqlite", env.get("sqlite") or "-"),
        ("python / sqlite", f"{env['python']} / {env.get('sqlite_library', '?')}"), ("versions", versions),
        ("platform", env.get("platform", "")), ("started / finished", f"{env['started_at']} / {env['finished_at']}"),
        ("xdist workers", env.get("workers", 0)),
    ]
    return _table("prodready-environment", "Environment", ("", ""), rows)


def _table(table_id: str, title: str, head: Iterable[str], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return ""
    return f"<h3>{title}</h3>" + _table_markup(head, rows, f'id="{table_id}"')


def _table_markup(
    head: Iterable[str], rows: list[tuple[Any, ...]], attributes: str, row_classes: Iterable[str] = ()
) -> str:
    """A table; ``row_classes`` styles whole rows (``bad``, ``warn``) in the order given."""
    classes = list(row_classes)
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        (f'<tr class="{escape(classes[i])}">' if i < len(classes) and classes[i] else "<tr>")
        + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table {attributes}><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    """Escape plain values; cells built by _state are already markup."""
    return value.markup if isinstance(value, _Markup) else escape(str(value))


class _Markup(str):
    @property
    def markup(self) -> str:
        return str(self)


def _state(good: bool, good_text: str, bad_text: str) -> _Markup:
    return _badge("ok" if good else "bad", good_text if good else bad_text)


def _rule_state(passed: bool, case_outcome: str) -> _Markup:
    """A missed rule of a warned case is a warning, not a failure."""
    if not passed and case_outcome == "warned":
        return _badge("warn", "warning")
    return _state(passed, "pass", "fail")


def _outcome(outcome: str) -> _Markup:
    """A case's outcome in its colour: pass green, warning amber, anything else red."""
    if outcome == "warned":
        return _badge("warn", "WARNING")
    if outcome == "unsupported":
        return _badge("warn", "UNSUPPORTED")
    return _state(outcome == "passed", "pass", outcome.upper())


def _badge(css_class: str, text: str) -> _Markup:
    return _Markup(f'<span class="{css_class}">{escape(text)}</span>')


def _limit(value: float | None, label: str = "limit") -> str:
    return f" ({label} {value:g})" if value is not None else ""


def _list(items: Iterable[str]) -> str:
    items = list(items)
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>" if items else ""


TEST_ID_CELL, _CELL_END = '<td class="col-testId">', "</td>"


def escaped_test_id_cell(cell: str, redactor: Redactor) -> str:
    """pytest-html's test-id cell with its id masked and escaped (an id like ``<img onerror=...>`` stays text)."""
    if not (cell.startswith(TEST_ID_CELL) and cell.endswith(_CELL_END)):
        return cell
    test_id = cell[len(TEST_ID_CELL):-len(_CELL_END)]
    return f"{TEST_ID_CELL}{escape(redactor.text(test_id))}{_CELL_END}"


def safe_metadata(metadata: Mapping[str, Any], redactor: Redactor) -> dict[str, Any]:
    """Metadata values as pytest-html's environment table may insert them: secrets masked, HTML escaped.

    The top-level key is set as text; nested keys and every value are inserted as HTML.
    """
    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {escape(redactor.text(str(k))): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        return escape(redactor.text(str(value))) if isinstance(value, str) else value

    return {key: clean(value) for key, value in redactor.value(dict(metadata)).items()}


def _ran_against(figures: Mapping[str, Any]) -> str:
    shown = systems.shown(figures)
    return f' <span class="prodready-system">(ran against {escape(shown)})</span>' if shown else ""
