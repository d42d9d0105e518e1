"""The markers the plugin registers and what they make of a test.

A test becomes a readiness case by carrying one of these markers; the marker
decides which domain and category of the verdict the case counts towards.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

MARKERS = {
    "smoke": "smoke(category=...): a readiness smoke case counted towards its category "
    "(connectivity, core_operations, performance, integration, error_handling).",
    "perf_gate": "perf_gate(name=None, **thresholds): a performance gate measured with the "
    "`latency` fixture; thresholds p50_ms, p95_ms, p99_ms, max_ms, mean_ms, min_ops_per_s, "
    "samples, warmup, concurrency; `name` picks a gate of the active profile.",
    "consistency": "consistency(rule=...): a data-consistency check counted in the verdict.",
    "load": "load(...): a load test run by locust against an HTTP service on loopback.",
    "api_readiness": "api_readiness(check=...): an API readiness check (authentication, security headers, "
    "RFC 7807 errors, health, rate limiting) counted in the verdict.",
    "canary": "canary(**keys): a live canary comparison, measured with the `canary` fixture, of "
    "--prodready-target-url against --prodready-baseline-url (default: two embedded reference apps); keys p50_pct, "
    "p95_pct, p99_pct (bounds in %; default p50 and p95 at --prodready-max-regression), error_points (5), "
    "rounds (20; one block per side each), max_rounds (rounds an undecided plan extends to, 4 x rounds), block_size (25), warmup (20), duration ('120s'), confidence (0.95), "
    "inconclusive ('go' or 'no-go'), severity, name.",
    "writes": "writes: the case writes to the system under test; skipped against a --prodready-target "
    "unless --prodready-allow-writes is given.",
}


class MarkerSource(Protocol):
    """What we need of a pytest item: its closest marker by name."""

    def get_closest_marker(self, name: str) -> Any: ...


class MarkerError(ValueError):
    """A readiness marker used wrongly; the message names the test."""


def readiness_info(item: MarkerSource, where: str) -> dict[str, Any] | None:
    """Domain and category of a readiness case, or None for an ordinary test."""
    smoke = item.get_closest_marker("smoke")
    gate = item.get_closest_marker("perf_gate")
    consistency = item.get_closest_marker("consistency")
    load = item.get_closest_marker("load")
    api = item.get_closest_marker("api_readiness")
    canary = item.get_closest_marker("canary")
    if smoke is not None:
        category = smoke.kwargs.get("category") or (smoke.args[0] if smoke.args else None)
        if not isinstance(category, str) or not category:
            raise MarkerError(f"{where}: @pytest.mark.smoke needs category='...'")
        return {"domain": "smoke", "category": category}
    if gate is not None:
        name, _ = gate_arguments(gate.args, gate.kwargs)
        return {"domain": "performance gates", "category": name or "inline gates"}
    if consistency is not None:
        return {"domain": "consistency", "category": _named(consistency, "consistency", "rule", where) or "rules"}
    if load is not None:
        return {"domain": "load", "category": load.kwargs.get("name", "load tests")}
    if api is not None:
        return {"domain": "api readiness", "category": _named(api, "api_readiness", "check", where) or "checks"}
    if canary is not None:
        return {"domain": "canary", "category": canary.kwargs.get("name", "canary comparisons")}
    return None


def _named(marker: Any, marker_name: str, key: str, where: str) -> str | None:
    """The one keyword a category marker takes (``rule=`` / ``check=``), a non-empty string when given."""
    if marker.args or set(marker.kwargs) - {key, "severity"}:
        given = ", ".join([*map(repr, marker.args), *(f"{k}=" for k in marker.kwargs)])
        raise MarkerError(f"{where}: @pytest.mark.{marker_name} takes {key}='...' (and severity=) only, got {given}")
    value = marker.kwargs.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise MarkerError(f"{where}: @pytest.mark.{marker_name}({key}=...) must be a non-empty string, got {value!r}")
    return value


def gate_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """Split ``perf_gate('name', p95_ms=...)`` into the gate name and inline thresholds."""
    inline = dict(kwargs)
    name = inline.pop("name", None)
    if args:
        name = args[0]
    if name is not None and not isinstance(name, str):
        raise MarkerError(f"perf_gate name must be a string, got {name!r}")
    return name, inline
