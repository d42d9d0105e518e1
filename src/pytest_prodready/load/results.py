"""What a locust run measured: its final JSON stats, the agent's timeline and error table.

Locust writes its final per-endpoint stats with ``--json-file``: request
and failure counts, a histogram of response times and the time span.  The
aggregate is recomputed here from the histograms, with the same percentile
code the performance gates use.  The agent adds a timeline (one row a
second) and the table of distinct errors, both optional so that a bare
locust run parses too.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..gates.latency import summarize

MAX_ERRORS_REPORTED = 10


class LoadResultError(ValueError):
    """Locust left no usable statistics."""


def stats_file(prefix: Path) -> Path:
    """Where ``--json-file PREFIX`` puts locust's final stats (it appends ``.json``)."""
    return prefix.with_name(prefix.name + ".json")


def timeline_file(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".timeline.jsonl")


def errors_file(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".errors.json")


@dataclass(frozen=True)
class LoadResult:
    """The figures a load test is judged on, plus the timeline for charts."""

    requests: int
    failures: int
    rps: float
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    elapsed_s: float
    users: int = 0
    stopped_by: str = "run time"
    endpoints: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 0.0

    def summary(self) -> str:
        """``1,950 req, 97.5 req/s, p95 41 ms, errors 0.0 %``"""
        return f"{self.context()}, p95 {self.p95_ms:.0f} ms, errors {self.error_ratio * 100:.1f} %"

    def context(self) -> str:
        """``1,950 req, 97.5 req/s``: the figures that put a missed limit in context."""
        return f"{self.requests:,} req, {self.rps:,.1f} req/s"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "error_ratio": round(self.error_ratio, 6), "summary": self.summary()}


def read_result(prefix: Path) -> LoadResult:
    """Parse a finished run's files (``PREFIX.json`` and, when present, the agent's extras)."""
    path = stats_file(prefix)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LoadResultError(f"locust wrote no readable stats at {path} ({exc})") from exc
    timeline, stopped_by = read_timeline(timeline_file(prefix))
    return aggregate(entries, timeline=timeline, errors=read_errors(errors_file(prefix)), stopped_by=stopped_by)


def aggregate(
    entries: Sequence[Mapping[str, Any]],
    *,
    timeline: list[dict[str, Any]] | None = None,
    errors: list[dict[str, Any]] | None = None,
    stopped_by: str = "run time",
) -> LoadResult:
    """One LoadResult from locust's per-endpoint entries (``RequestStats.serialize_stats``)."""
    requests = sum(int(e["num_requests"]) for e in entries)
    failures = sum(int(e["num_failures"]) for e in entries)
    timeline = timeline or []
    if requests == 0:
        return LoadResult(0, failures, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, _peak_users(timeline), stopped_by,
                          errors=errors or [], timeline=timeline)
    summary = summarize(_expand(_merged_histogram(entries)))
    timed = sum(int(e["num_requests"]) - int(e.get("num_none_requests", 0)) for e in entries)
    elapsed = max(float(e["last_request_timestamp"] or 0) for e in entries) - min(float(e["start_time"]) for e in entries)
    return LoadResult(
        requests=requests,
        failures=failures,
        rps=requests / elapsed if elapsed > 0 else float(requests),
        mean_ms=sum(float(e["total_response_time"]) for e in entries) / max(timed, 1),
        p50_ms=summary.p50_ms,
        p95_ms=summary.p95_ms,
        p99_ms=summary.p99_ms,
        max_ms=max(float(e["max_response_time"]) for e in entries),
        elapsed_s=round(elapsed, 3),
        users=_peak_users(timeline),
        stopped_by=stopped_by,
        endpoints=[_endpoint(e) for e in entries],
        errors=errors or [],
        timeline=timeline,
    )


def _merged_histogram(entries: Iterable[Mapping[str, Any]]) -> dict[float, int]:
    """Locust keeps response times as {rounded ms: count}; JSON turned the keys into strings."""
    merged: dict[float, int] = {}
    for entry in entries:
        for value, count in entry["response_times"].items():
            merged[float(value)] = merged.get(float(value), 0) + int(count)
    return merged


def _expand(histogram: Mapping[float, int]) -> list[float]:
    return [value for value, count in sorted(histogram.items()) for _ in range(count)]


def _endpoint(entry: Mapping[str, Any]) -> dict[str, Any]:
    requests = int(entry["num_requests"])
    histogram = _merged_histogram([entry])
    return {
        "method": entry.get("method") or "",
        "name": entry["name"],
        "requests": requests,
        "failures": int(entry["num_failures"]),
        "p95_ms": summarize(_expand(histogram)).p95_ms if histogram else 0.0,
    }


def _peak_users(timeline: Sequence[Mapping[str, Any]]) -> int:
    return max((int(row.get("users", 0)) for row in timeline), default=0)


def read_timeline(path: Path) -> tuple[list[dict[str, Any]], str]:
    """The agent's per-second rows, and why the run stopped (a row with an ``event`` says so)."""
    rows: list[dict[str, Any]] = []
    stopped_by = "run time"
    if not path.is_file():
        return rows, stopped_by
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed process
        if "event" in row:
            stopped_by = str(row["event"])
        else:
            rows.append(row)
    return with_rates(rows), stopped_by


def with_rates(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-interval req/s and failures/s from the cumulative counts.

    locust's own ``current_rps`` averages a window that ends two seconds back,
    so it reads 0 through a short run; the counts between rows do not lag.
    A count that drops means locust reset its statistics (``reset_stats``
    once every user runs): what it counts then is all new since the reset.
    """
    previous = {"t_s": 0.0, "requests": 0, "failures": 0}
    for row in rows:
        span = float(row.get("t_s", 0.0)) - float(previous["t_s"])
        if span > 0 and "requests" in row:
            row["rps"] = round(_since(row["requests"], previous["requests"]) / span, 2)
            row["failures_per_s"] = round(_since(row.get("failures", 0), previous["failures"]) / span, 2)
        previous = {"t_s": row.get("t_s", 0.0), "requests": row.get("requests", 0), "failures": row.get("failures", 0)}
    return rows


def _since(count: int, before: int) -> int:
    """What a cumulative count added since the previous row, across a statistics reset."""
    return count - before if count >= before else count


def latest_row(path: Path) -> dict[str, Any] | None:
    """The newest complete timeline row, for progress lines while the run goes on."""
    rows, _ = read_timeline(path)
    return rows[-1] if rows else None


def read_errors(path: Path) -> list[dict[str, Any]]:
    """Distinct errors, most frequent first (method, name, error, occurrences)."""
    if not path.is_file():
        return []
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return []
    rows = sorted(rows, key=lambda row: -int(row.get("occurrences", 0)))
    return rows[:MAX_ERRORS_REPORTED]
