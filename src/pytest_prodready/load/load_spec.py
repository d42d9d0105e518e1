"""``@pytest.mark.load(...)``: run parameters and pass/fail limits, parsed once, errors name the key.

Numbers, durations and warn / fail levels are checked by :mod:`..limits`, as
the performance gates' are, so a bad value reads the same in both places:
``p95_ms=-1`` or ``users=0`` stops the run before it starts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Mapping

from ..limits import LimitKind, ThresholdError, fraction, parse_duration, parse_limits, positive_number, whole_number
from ..markers import MarkerError

if TYPE_CHECKING:
    import pytest

    from .results import LoadResult

LATENCY_LIMITS = ("p50_ms", "p95_ms", "p99_ms", "mean_ms")
LIMIT_KEYS = ("max_error_ratio", *LATENCY_LIMITS, "min_rps")
DEFAULT_MAX_ERROR_RATIO = 0.01
# Without max_requests the cap is duration x this rate: far above what loopback can serve, still finite.
DEFAULT_CAP_RPS = 10_000


@dataclass(frozen=True)
class LoadSpec:
    """How hard to push (users, spawn rate, time, request cap) and what must hold afterwards."""

    name: str = ""
    users: int = 10
    spawn_rate: float = 10.0
    duration_s: int = 10
    max_requests: int | None = None
    processes: int = 1
    stop_timeout_s: int = 0
    steady_state: bool = False
    max_error_ratio: float | None = DEFAULT_MAX_ERROR_RATIO
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    min_rps: float | None = None
    warn_limits: Mapping[str, float] = field(default_factory=dict)

    @property
    def request_cap(self) -> int:
        """Every run is bounded in requests as well as in time."""
        return self.max_requests or self.duration_s * DEFAULT_CAP_RPS

    def limits(self) -> dict[str, float]:
        """The limits that are set, for reports."""
        return {key: getattr(self, key) for key in LIMIT_KEYS if getattr(self, key) is not None}

    def plan(self) -> dict[str, Any]:
        """The run parameters, for reports."""
        data = asdict(self)
        return {key: data[key] for key in ("users", "spawn_rate", "duration_s", "processes", "steady_state")} | {
            "max_requests": self.request_cap
        }


SPEC_KEYS = tuple(f.name for f in fields(LoadSpec) if f.name != "warn_limits") + ("severity",)
_COUNTS = {"users": 1, "max_requests": 1, "processes": 1, "stop_timeout_s": 0}
_ALIASES = {"duration": "duration_s", "stop_timeout": "stop_timeout_s"}
_LIMITS = {"max_error_ratio": LimitKind(number=fraction)} | {key: LimitKind() for key in LATENCY_LIMITS} | {
    "min_rps": LimitKind(higher_is_worse=False)
}


def parse_load(raw: Mapping[str, Any], where: str) -> LoadSpec:
    """Build a LoadSpec from marker kwargs (and ``run()`` overrides); ``where`` prefixes errors."""
    values: dict[str, Any] = {}
    if raw.get("max_error_ratio", 0) is None:  # None: no error-ratio limit at all
        values["max_error_ratio"] = None
    limits = parse_limits({k: v for k, v in raw.items() if k not in values}, _LIMITS, where)
    for given, value in raw.items():
        key = _ALIASES.get(given, given)
        label = f"{where}: {given}"
        if key in _LIMITS or key == "severity":
            continue
        if key in _COUNTS:
            values[key] = whole_number(value, _COUNTS[key], label)
        elif key == "duration_s":
            values[key] = parse_duration(value, label)
        elif key == "spawn_rate":
            values[key] = positive_number(value, label)
        elif key == "steady_state":
            values[key] = _flag(value, label)
        elif key == "name":
            values[key] = str(value)
        else:
            allowed = ", ".join(sorted({*SPEC_KEYS, *_ALIASES} - {"name", *_ALIASES.values()}))
            raise ThresholdError(f"{where}: unknown load key {given!r} (expected one of: {allowed})")
    return LoadSpec(**values, **limits.fail_values(), warn_limits=limits.warn)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ThresholdError(f"{where}: expected True or False, got {value!r}")
    return value


def check(spec: LoadSpec, result: LoadResult) -> list[str]:
    """Every limit the run missed, worded like 'error ratio 10.2 % > 1 %' or 'p95 231 ms > 200 ms'."""
    if result.requests == 0:
        return ["no request completed"]
    misses = []
    if 0 < result.users < spec.users:
        misses.append(f"only {result.users} of {spec.users} users were running at once")
    return misses + missed(spec.limits(), result)


def missed(limits: Mapping[str, float], result: LoadResult) -> list[str]:
    """Every limit of ``limits`` (fail or warn level) the run missed."""
    misses = []
    ceiling = limits.get("max_error_ratio")
    if ceiling is not None and result.error_ratio > ceiling:
        misses.append(f"error ratio {result.error_ratio * 100:.1f} % > {ceiling * 100:g} %")
    for key in LATENCY_LIMITS:
        limit, measured = limits.get(key), getattr(result, key)
        if limit is not None and measured > limit:
            misses.append(f"{key[:-3]} {measured:.0f} ms > {limit:g} ms")
    floor = limits.get("min_rps")
    if floor is not None and result.rps < floor:
        misses.append(f"throughput {result.rps:.1f} req/s < {floor:g} req/s")
    return misses


def check_marker(item: pytest.Item) -> None:
    """Reject a misused ``@pytest.mark.load`` at collection, before anything runs.

    Limits or run settings with no ``load_runner`` to measure them would
    never be checked; a bare ``load(name=...)`` only files the case.
    """
    marker = item.get_closest_marker("load")
    if marker is None:
        return
    if marker.args:
        raise MarkerError(f"{item.nodeid}: @pytest.mark.load takes keyword arguments only, got {marker.args!r}")
    parse_load(marker.kwargs, item.nodeid)
    settings = set(marker.kwargs) - {"name"}
    if settings and "load_runner" not in getattr(item, "fixturenames", ()):
        raise MarkerError(
            f"{item.nodeid}: @pytest.mark.load({', '.join(sorted(settings))}=...) needs the 'load_runner' fixture"
        )
