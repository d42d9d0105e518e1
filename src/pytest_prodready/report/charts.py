"""Small inline SVG charts, so the report needs no script and no network.

A latency histogram with the gate's limits drawn on it, and a line chart for
figures over time (a load test's requests per second and p95).
"""

from __future__ import annotations

from html import escape
from typing import Mapping, Sequence

WIDTH, HEIGHT, PAD = 420, 160, 32
_LIMIT_COLOURS = {"p50_ms": "#8250df", "p95_ms": "#bf8700", "p99_ms": "#cf222e", "max_ms": "#cf222e", "mean_ms": "#0969da"}
_SERIES_COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#8250df")


def latency_histogram(samples_ms: Sequence[float], limits: Mapping[str, float], bins: int = 30) -> str:
    """Bars of the sample distribution; limits inside the range are dashed lines, others are noted."""
    if not samples_ms:
        return ""
    import numpy as np

    top = max(samples_ms) * 1.15 or 1.0
    counts, edges = np.histogram(np.asarray(samples_ms), bins=bins, range=(0.0, top))
    x = _scale(0.0, top, PAD, WIDTH - 8)
    y = _scale(0.0, float(counts.max()) or 1.0, HEIGHT - PAD, 18)
    bars = "".join(
        f'<rect x="{x(float(lo)):.1f}" y="{y(float(c)):.1f}" width="{max(x(float(hi)) - x(float(lo)) - 1, 1):.1f}" '
        f'height="{HEIGHT - PAD - y(float(c)):.1f}" fill="#54aeff"/>'
        for lo, hi, c in zip(edges[:-1], edges[1:], counts)
        if c
    )
    shown = {k: v for k, v in limits.items() if k in _LIMIT_COLOURS}
    inside = {k: v for k, v in shown.items() if v <= top}
    lines = "".join(_limit_line(x(v), k, v) for k, v in inside.items())
    beyond = ", ".join(f"{k[:-3]} limit {v:g} ms" for k, v in shown.items() if k not in inside)
    note = f'<text x="{WIDTH - 8}" y="12" font-size="10" text-anchor="end" fill="#57606a">&#8594; {escape(beyond)}</text>' if beyond else ""
    axis = _axes(f"{top:.2f} ms", f"{int(counts.max())} samples", "latency (ms)")
    return _svg(f"latency histogram, {len(samples_ms)} samples", bars + lines + note + axis)


def _limit_line(at: float, key: str, value: float) -> str:
    anchor = "end" if at > WIDTH * 0.75 else "start"
    shift = -2 if anchor == "end" else 2
    colour = _LIMIT_COLOURS[key]
    return (
        f'<line x1="{at:.1f}" x2="{at:.1f}" y1="18" y2="{HEIGHT - PAD}" stroke="{colour}" stroke-dasharray="4 3">'
        f"<title>{escape(key)} limit {value:g} ms</title></line>"
        f'<text x="{at + shift:.1f}" y="26" font-size="10" text-anchor="{anchor}" fill="{colour}">'
        f"{escape(key[:-3])} limit {value:g}</text>"
    )


def timeline(points: Sequence[Mapping[str, float]], series: Sequence[str], x_key: str = "t_s") -> str:
    """One polyline per series over ``x_key``; each series scaled to its own height."""
    usable = [p for p in points if x_key in p]
    if len(usable) < 2:
        return ""
    x = _scale(float(usable[0][x_key]), float(usable[-1][x_key]) or 1.0, PAD, WIDTH - 8)
    paths, legend = [], []
    for index, name in enumerate(series):
        values = [(float(p[x_key]), float(p[name])) for p in usable if p.get(name) is not None]
        if not values:
            continue
        top = max(v for _, v in values) or 1.0
        y = _scale(0.0, top * 1.1, HEIGHT - PAD, 8)
        colour = _SERIES_COLOURS[index % len(_SERIES_COLOURS)]
        coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in values)
        paths.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{coords}"/>')
        legend.append(f'<text x="{PAD + 4 + 110 * index}" y="{HEIGHT - 4}" font-size="10" fill="{colour}">'
                      f"{escape(name)} (max {top:.1f})</text>")
    axis = _axes(f"{usable[-1][x_key]:.0f} s", "", "")
    return _svg("figures over time", "".join(paths) + "".join(legend) + axis)


def _scale(lo: float, hi: float, out_lo: float, out_hi: float):
    span = (hi - lo) or 1.0
    return lambda v: out_lo + (v - lo) / span * (out_hi - out_lo)


def _axes(x_label: str, y_label: str, title: str) -> str:
    return (
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 8}" y2="{HEIGHT - PAD}" stroke="#57606a"/>'
        f'<line x1="{PAD}" y1="8" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#57606a"/>'
        f'<text x="{WIDTH - 8}" y="{HEIGHT - PAD + 12}" font-size="10" text-anchor="end">{escape(x_label)}</text>'
        f'<text x="{PAD + 2}" y="{HEIGHT - PAD + 12}" font-size="10">0</text>'
        f'<text x="{PAD - 2}" y="16" font-size="10" text-anchor="end" transform="rotate(-90 {PAD - 20} 40)">'
        f"{escape(y_label)}</text>"
        f'<text x="{(WIDTH + PAD) / 2:.0f}" y="{HEIGHT - PAD + 24}" font-size="10" text-anchor="middle">{escape(title)}</text>'
    )


def _svg(label: str, body: str) -> str:
    return (
        f'<svg class="prodready-chart" role="img" aria-label="{escape(label)}" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">{body}</svg>'
    )
