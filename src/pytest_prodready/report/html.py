"""The verdict as HTML blocks placed at the top of pytest-html's report."""

from __future__ import annotations

from html import escape

from ..settings import Settings
from ..verdict import Verdict
from .redaction import redact

_COLOURS = {True: "#1a7f37", False: "#cf222e"}


def summary_blocks(verdict: Verdict, settings: Settings) -> list[str]:
    """The decision and why, then one row per category with passed / required."""
    colour = _COLOURS[verdict.go]
    blocks = [
        f'<div id="prodready-verdict" data-decision="{verdict.label}" '
        f'style="border:3px solid {colour};padding:8px 12px;margin:8px 0;">'
        f'<h2 style="color:{colour};margin:0;">READINESS: {verdict.label}</h2>'
        f"<p>profile <b>{escape(settings.profile)}</b>; target <code>{escape(redact(settings.target))}</code></p>"
    ]
    if verdict.reasons:
        blocks.append("<ul>" + "".join(f"<li>{escape(redact(r))}</li>" for r in verdict.reasons) + "</ul>")
    blocks.append("</div>")
    rows = "".join(
        f'<tr class="prodready-category" data-ready="{str(t.ready).lower()}">'
        f"<td>{escape(t.domain)}</td><td>{escape(t.category)}</td>"
        f"<td>{t.passed} / {t.required}</td><td>{t.failed + t.errors}</td><td>{t.skipped}</td>"
        f'<td style="color:{_COLOURS[t.ready]}">{"ready" if t.ready else "not ready"}</td></tr>'
        for t in verdict.categories
    )
    blocks.append(
        '<table id="prodready-categories" style="border-collapse:collapse;margin-bottom:12px;">'
        "<thead><tr><th>domain</th><th>category</th><th>passed / required</th><th>failed</th>"
        f"<th>skipped</th><th>result</th></tr></thead><tbody>{rows}</tbody></table>"
    )
    if verdict.failing:
        items = "".join(
            f"<li><code>{escape(r.nodeid)}</code> ({r.outcome}) {escape(redact(r.message))}</li>"
            for r in verdict.failing
        )
        blocks.append(f'<div id="prodready-failing"><h3>Failing cases</h3><ul>{items}</ul></div>')
    return blocks
