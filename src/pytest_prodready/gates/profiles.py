"""Named gates per environment profile (seed 004: stricter towards production).

``production`` carries seed 003's targets for the smoke suite's performance
cases and seed 001's service targets as named gates; ``staging`` and
``development`` relax the latency limits.  Users add or override gates in
``[tool.prodready.profiles.<name>.<gate>]``.
"""

from __future__ import annotations

from typing import Any, Mapping

Table = dict[str, dict[str, Any]]

DEFAULT_PROFILE = "production"
# A profile-wide setting beside the gate tables: every warn level of the profile fails.
ESCALATE_KEY = "escalate_warnings"
# A profile-wide list beside the gate tables: case names whose "unsupported" outcome the profile accepts.
WAIVE_KEY = "waive_unsupported"
PROFILE_SETTINGS = (ESCALATE_KEY, WAIVE_KEY)

_PRODUCTION: Table = {
    # Seed 003, performance benchmarks (targets) and go / no-go p99 limits.
    "session_retrieval": {"p95_ms": 10, "p99_ms": 20, "samples": 200, "warmup": 20},
    "memory_retrieval": {"p95_ms": 20, "p99_ms": 50, "samples": 200, "warmup": 20},
    "namespace_query": {"p95_ms": 50, "p99_ms": 100, "samples": 100, "warmup": 10},
    "concurrent_session_reads": {"max_ms": 1000, "samples": 10, "warmup": 2, "concurrency": 50},
    "semantic_search": {"p95_ms": 500, "p99_ms": 500, "samples": 50, "warmup": 5},
    "hybrid_search": {"p95_ms": 600, "p99_ms": 600, "samples": 50, "warmup": 5},
    "background_sync": {"max_ms": 2000, "samples": 5, "warmup": 0},
    # Seed 001, service targets.
    "api_response": {"mean_ms": 500, "p95_ms": 500, "samples": 100, "warmup": 10},
    "db_query": {"mean_ms": 100, "samples": 100, "warmup": 10},
    "write_throughput": {"min_ops_per_s": 500, "samples": 500, "warmup": 20},
    "relationship_validation": {"min_ops_per_s": 100, "samples": 200, "warmup": 10},
    "concurrent_connections": {"max_ms": 1000, "samples": 5, "warmup": 1, "concurrency": 51},
}

_LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")


def _relaxed(table: Table, factor: float) -> Table:
    """The same gates with latency limits multiplied and throughput divided."""
    relaxed: Table = {}
    for gate, spec in table.items():
        spec = dict(spec)
        for key in _LATENCY_KEYS:
            if key in spec:
                spec[key] = spec[key] * factor
        if "min_ops_per_s" in spec:
            spec["min_ops_per_s"] = spec["min_ops_per_s"] / factor
        relaxed[gate] = spec
    return relaxed


SHIPPED_PROFILES: dict[str, Table] = {
    "production": _PRODUCTION,
    "staging": _relaxed(_PRODUCTION, 1.5),
    "development": _relaxed(_PRODUCTION, 3.0),
}


def merged_profiles(user: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, Table]:
    """Shipped profiles with the user's tables laid over them, gate by gate."""
    merged = {name: {gate: dict(spec) for gate, spec in table.items()} for name, table in SHIPPED_PROFILES.items()}
    for name, table in user.items():
        target = merged.setdefault(name, {})
        for gate, spec in table.items():
            target[gate] = spec if gate in PROFILE_SETTINGS else {**target.get(gate, {}), **spec}
    return merged
