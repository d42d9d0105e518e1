"""The canary figures as plain text, shared by the HTML page and the Markdown job summary.

Both reports render ``figures["canary"]`` (built in ``canary/judgement.py``);
wording each figure in one place keeps the page and the job summary saying
the same thing.  These return unescaped text: the HTML report escapes it, the
Markdown report escapes table pipes.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..gates.comparison import interval_text


def canary_plan(fig: Mapping[str, Any]) -> str:
    """E.g. ``plan: 20 rounds of 25 requests per side (ABBA order), 20 warm-up requests per side; 3 of 20 rounds done
    (stopped at the 120 s limit after 7 of 40 blocks)``.

    ``plan.blocks`` counts rounds (one block per side each) and ``blocks_done``
    counts complete rounds, so both are worded as rounds; the sampler's
    ``stopped_early`` text counts single blocks and is quoted as it is.
    """
    plan, done = fig["plan"], fig["blocks_done"]
    text = (
        f"plan: {plan['blocks']} rounds of {plan['block_size']} requests per side ({plan['order']} order), "
        f"{plan['warmup']} warm-up requests per side; "
    )
    if done > plan["blocks"]:
        text += f"{done} rounds done (undecided after {plan['blocks']}, extended; at most {plan.get('max_blocks', done)})"
    else:
        text += f"{done} of {plan['blocks']} rounds done"
    return f"{text} ({fig['stopped_early']})" if fig.get("stopped_early") else text


def canary_decision(fig: Mapping[str, Any]) -> str:
    """The case's decision; an inconclusive one names its policy, which decides whether it warns or fails."""
    decision = fig["decision"]
    if decision == "inconclusive":
        return f"inconclusive (inconclusive = {fig.get('inconclusive_policy', 'go')})"
    return decision


def canary_figure(comparison: Mapping[str, Any], side: str) -> str:
    """A side's figure in its own unit: a percentile in ms, the error rate in % (its change is in points)."""
    value = comparison[side]
    return f"{value:.2f} %" if comparison["unit"] == "points" else f"{value:.2f} ms"


def canary_ratio(comparison: Mapping[str, Any]) -> str:
    """E.g. ``1.24x``; ``-`` for the error rate, which is compared in points and so has no ratio (null)."""
    ratio = comparison.get("ratio")
    return "-" if ratio is None else f"{ratio:.2f}x"


def canary_change(comparison: Mapping[str, Any]) -> str:
    """E.g. ``+24.0 % (95 % CI +22.8 .. +24.4 %)``, or in points for the error rate.

    The interval is shown with the change because the decision rests on it,
    not on the point estimate.
    """
    unit = comparison["unit"]
    digits = 2 if unit == "points" else 1
    interval = interval_text(comparison["ci_low"], comparison["ci_high"], comparison["confidence"], unit, digits)
    return f"{comparison['change']:+.{digits}f} {unit} ({interval})"


def canary_bound(comparison: Mapping[str, Any]) -> str:
    """E.g. ``10 %`` or ``5 points``; ``-`` for a metric reported without a bound ("not gated")."""
    bound = comparison.get("bound")
    return "-" if bound is None else f"{bound:g} {comparison['unit']}"
