"""The Markdown summary: the verdict as a CI job summary (GitHub's ``GITHUB_STEP_SUMMARY``).

Rendered from the same document the JSON report holds, so the job summary,
the JSON file and the HTML page can never disagree; the document is already
redacted, and the text is masked once more before it is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import rows as shared_rows
from .canary_text import canary_bound, canary_change, canary_decision, canary_figure, canary_plan, canary_ratio
from .. import systems
from ..verdict import category_passed, ran_of, run_passed
from .files import STEP_SUMMARY_ENV
from .redaction import Redactor


def render(document: Mapping[str, Any]) -> str:
    """The whole summary: headline, categories, failures, warnings, gate figures and canary comparisons."""
    cases = document["cases"]
    parts = [
        _headline(document),
        _categories(document["categories"]),
        _cases("Failed", [c for c in cases if c["outcome"] in ("failed", "error", "interrupted")]),
        _cases("Unsupported by the target", [c for c in cases if c["outcome"] == "unsupported"]),
        _cases("Warnings", [c for c in cases if c["outcome"] == "warned"]),
        _gates([c for c in cases if "latency" in c["figures"]]),
        _canary([c for c in cases if "canary" in c["figures"]]),
    ]
    return "\n".join(part for part in parts if part)


def write_summaries(
    path: Path | None, environ: Mapping[str, str], document: Mapping[str, Any], redactor: Redactor
) -> list[Path]:
    """Write the summary to ``path`` and append it to the CI job summary when one is set."""
    written = [write(path, document, redactor, append=False)] if path else []
    step_summary = environ.get(STEP_SUMMARY_ENV)
    if step_summary:
        written.append(write(Path(step_summary), document, redactor, append=True))
    return written


def write(path: Path, document: Mapping[str, Any], redactor: Redactor, *, append: bool) -> Path:
    """Write (or append, as GitHub expects for a job summary) the rendered summary."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write(redactor.text(render(document)) + "\n")
    return path.resolve()


def _headline(document: Mapping[str, Any]) -> str:
    verdict, env, categories = document["verdict"], document["environment"], document["categories"]
    passed, required = sum(c["passed"] for c in categories), sum(c["required"] for c in categories)
    ran = sum(ran_of(c) for c in categories)
    incomplete = " (incomplete)" if verdict["incomplete"] else ""
    reasons = "".join(f"\n- {_text(r)}" for r in verdict["reasons"])
    return (
        f"## READINESS: {_text(verdict['headline'])}{incomplete}\n\n"
        f"Profile {_code(env['profile'])}; {_cell(systems.header(env.get('systems', ())))}. {run_passed(passed, ran, required)}."
        f"{chr(10) if reasons else ''}{reasons}\n"
    )


def _categories(categories: Sequence[Mapping[str, Any]]) -> str:
    return _table("Categories", shared_rows.CATEGORY_HEAD, [(*shared_rows.category_cells(c), _category_state(c)) for c in categories])


_CATEGORY_MARKS = {shared_rows.READY: "✅", shared_rows.READY_WARNED: "⚠️", shared_rows.NOT_READY: "❌"}



def _category_state(category: Mapping[str, Any]) -> str:
    state = shared_rows.category_state(category)
    return f"{_CATEGORY_MARKS[state]} {state}"


def _cases(title: str, cases: Sequence[Mapping[str, Any]]) -> str:
    rows = [(_code(c["nodeid"]), c["outcome"], c["message"], systems.shown(c["figures"]) or "-", _latency(c["figures"]))
            for c in cases]
    return _table(title, ("case", "outcome", "message", "ran against", "p50 / p95 / p99 (ms)"), rows)


def _gates(cases: Sequence[Mapping[str, Any]]) -> str:
    rows = [
        (_code(c["nodeid"]), c["figures"].get("gate") or "inline", c["figures"]["latency"]["n"],
         *(f"{c['figures']['latency'][key]:.2f}" for key in shared_rows.GATE_FIGURES),
         _limits(c["figures"].get("limits", {}), c["figures"].get("warn_limits", {})), c["outcome"])
        for c in cases
    ]
    return _table("Performance gates", ("case", "gate", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "limits",
                                        "outcome"), rows)


def _canary(cases: Sequence[Mapping[str, Any]]) -> str:
    """One row per comparison, then each case's decision, URLs and plan."""
    if not cases:
        return ""
    rows = [
        (_code(c["nodeid"]), k["metric"], canary_figure(k, "baseline"), canary_figure(k, "candidate"),
         canary_ratio(k), canary_change(k), canary_bound(k), _canary_mark(k["decision"]))
        for c in cases
        for k in c["figures"]["canary"]["comparisons"]
    ]
    table = _table("Canary comparisons", ("case", "metric", "baseline", "candidate", "ratio", "change", "bound",
                                          "decision"), rows) or "### Canary comparisons\n"
    return table + "\n" + "\n".join(_canary_note(case) for case in cases) + "\n"


def _canary_note(case: Mapping[str, Any]) -> str:
    fig = case["figures"]["canary"]
    decision = _canary_mark(fig["decision"], canary_decision(fig))
    note = (f"- {_code(case['nodeid'])}: {_text(decision)}; baseline {_code(fig['baseline_url'])}, "
            f"candidate {_code(fig['candidate_url'])}; {_text(canary_plan(fig))}")
    return " ".join(note.split())


_CANARY_MARKS = {"within bound": "✅", "inconclusive": "⚠️", "regressed": "❌", "no baseline": "❌", "not measured": "❌"}


def _canary_mark(decision: str, text: str | None = None) -> str:
    """``text`` (the decision itself by default) behind the decision's mark; "not gated" has none."""
    text = decision if text is None else text
    mark = _CANARY_MARKS.get(decision)
    return f"{mark} {text}" if mark else text


def _latency(figures: Mapping[str, Any]) -> str:
    latency = figures.get("latency")
    if not latency:
        return ""
    return " / ".join(f"{latency[key]:.2f}" for key in ("p50_ms", "p95_ms", "p99_ms"))


def _limits(fail: Mapping[str, float], warn: Mapping[str, float]) -> str:
    shown = [f"{key} {value:g}" for key, value in fail.items()]
    shown += [f"{key} {value:g} (warn)" for key, value in warn.items()]
    return ", ".join(shown)


def _table(title: str, head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = list(rows)
    if not rows:
        return ""
    lines = [f"### {title}", "", _row(head), _row(["---"] * len(head))]
    lines += [_row(row) for row in rows]
    return "\n".join(lines) + "\n"


def _row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _cell(value: Any) -> str:
    """One line, with pipes escaped, so a message cannot break the table."""
    return _text(value).replace("|", "\\|")


class _Code(str):
    """A finished code span: its text is shown literally, so it is not escaped again."""


def _code(value: Any) -> _Code:
    """A code span whose fence is longer than any run of backticks inside, so none can end it early."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence, pad = "`" * (longest + 1), " " if longest else ""
    return _Code(f"{fence}{pad}{text}{pad}{fence}")


def _text(value: Any) -> str:
    """One line of text; a ``<`` or backtick from a database value or test id cannot start HTML or a code span."""
    text = " ".join(str(value).split())
    if isinstance(value, _Code):
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("`", "\\`")
