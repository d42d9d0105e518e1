"""Options and ``[tool.prodready]``: one resolver, validated once, errors name the key.

Command-line options win over ``[tool.prodready]`` in ``pyproject.toml``,
which wins over the defaults.  Everything is checked before a single test
runs: a typo in a key, a negative threshold, an unknown profile or a database
path that is not a database each become a :class:`SettingsError` with a
one-line message, which the plugin turns into pytest's usage error.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping


from .gates import baseline_options as baselines  # the options only: a run that saves or compares imports baseline
from .gates.profiles import DEFAULT_PROFILE, ESCALATE_KEY, WAIVE_KEY, merged_profiles
from .limits import ThresholdError
from .schema_check import surely_valid
from .canary.options import INCONCLUSIVE_POLICIES, MISSING_TARGET
from .cpu_pinning import DEFAULT_POLICY as DEFAULT_PIN_POLICY, PIN_POLICIES
from .timeouts import Timeouts, TimeoutSettingError, parse_timeouts
from .verdict import SMOKE_REQUIREMENTS

if TYPE_CHECKING:
    from .checks.schema_expectation import SchemaExpectation
    from .gates.baseline import Baseline
    from .gates.gate_spec import GateSpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

REFERENCE_TARGET = "pytest_prodready.reference:create_target"
DEFAULT_HTML = "reports/readiness.html"
DEFAULT_JSON = "reports/readiness.json"
DEFAULT_BASELINE_DIR = ".prodready/baselines"

# CLI option dest -> [tool.prodready] key.
OPTION_KEYS = {
    "prodready_target": "target",
    "prodready_sqlite": "sqlite",
    "prodready_profile": "profile",
    "prodready_html": "html",
    "prodready_json": "json",
    "prodready_save_baseline": "save_baseline",
    "prodready_compare": "compare",
    "prodready_max_regression": "max_regression",
    "prodready_regression_metric": "regression_metric",
    "prodready_min_regression": "min_regression",
    "prodready_baseline_dir": "baseline_dir",
    "prodready_summary_md": "summary_md",
    "prodready_allow_writes": "allow_writes",
    "prodready_target_url": "target_url",
    "prodready_baseline_url": "baseline_url",
    "prodready_canary_inconclusive": "canary_inconclusive",
    "prodready_pin_cpu": "pin_cpu",
}

_COUNTS = {"type": "integer", "minimum": 0}
MAX_VOLUME = 1_000_000  # rows per table the reference target generates before the first case: more never ends
_VOLUME = {**_COUNTS, "maximum": MAX_VOLUME}
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "target": {"type": "string", "minLength": 3},
        "sqlite": {"type": "string", "minLength": 1},
        "profile": {"type": "string", "minLength": 1},
        "html": {"type": "string", "minLength": 1},
        "json": {"type": "string", "minLength": 1},
        "save_baseline": {"type": "string", "minLength": 1},
        "compare": {"type": "string", "minLength": 1},
        "max_regression": {"type": ["string", "number"]},
        "regression_metric": {"enum": list(baselines.METRICS)},
        "min_regression": {"type": "string", "minLength": 1},
        "baseline_dir": {"type": "string", "minLength": 1},
        "summary_md": {"type": "string", "minLength": 1},
        "allow_writes": {"type": "boolean"},
        "target_url": {"type": "string", "minLength": 1},
        "baseline_url": {"type": "string", "minLength": 1},
        "canary_inconclusive": {"enum": list(INCONCLUSIVE_POLICIES)},
        "pin_cpu": {"enum": list(PIN_POLICIES)},
        "connect_timeout": {"type": "number"},
        "query_timeout": {"type": "number"},
        "schema": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ddl": {"type": "string", "minLength": 1},
                "tables": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "json_columns": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "pragmas": {"type": "object"},
            },
        },
        "volume": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"sessions": _VOLUME, "memories": _VOLUME, "documents": _VOLUME},
        },
        "require": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": _COUNTS},
        },
        "profiles": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "escalate_warnings": {"type": "boolean"},
                    "waive_unsupported": {"type": "array", "items": {"type": "string", "minLength": 1}},
                },
                "additionalProperties": {"type": "object"},
            },
        },
        # Rules are validated, with file / rule / key in the error, when pytest collects them.
        "consistency": {"type": "object"},
    },
}


class SettingsError(Exception):
    """Configuration the run cannot start with; the message is one line."""


@dataclass(frozen=True)
class Settings:
    """Everything the plugin was told, resolved and checked."""

    target: str = REFERENCE_TARGET
    sqlite: Path | None = None
    profile: str = DEFAULT_PROFILE
    html_path: Path = Path(DEFAULT_HTML)
    json_path: Path = Path(DEFAULT_JSON)
    volume: Mapping[str, int] = field(default_factory=dict)
    requirements: Mapping[str, Mapping[str, int]] = field(default_factory=lambda: {"smoke": SMOKE_REQUIREMENTS})
    gates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    explicit: bool = False
    config_file: Path | None = None
    save_baseline: str | None = None
    baseline: Baseline | None = None
    baseline_dir: Path = Path(DEFAULT_BASELINE_DIR)
    max_regression_pct: float = 10.0
    regression_metric: str = baselines.DEFAULT_METRIC
    min_regression: baselines.MinChange = baselines.DEFAULT_MIN_REGRESSION
    escalate_warnings: bool = False
    summary_md: Path | None = None
    allow_writes: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    target_url: str | None = None
    baseline_url: str | None = None
    canary_inconclusive: str = "go"
    pin_cpu: str = DEFAULT_PIN_POLICY  # "auto": a stored-baseline run is timed on one CPU (cpu_pinning.py)
    waived: frozenset[str] = frozenset()  # the profile's waive_unsupported case names
    schema: SchemaExpectation | None = None  # None: the reference schema, built when a case asks

    @property
    def uses_reference(self) -> bool:
        return self.target == REFERENCE_TARGET

    @property
    def needs_preflight(self) -> bool:
        """A target of the user's or a named database is checked before any case (preflight.py): the reference is not."""
        return not self.uses_reference or self.sqlite is not None

    @property
    def target_options(self) -> dict[str, Any]:
        """What the target's factory finds in ``TargetContext.options``."""
        return {"volume": dict(self.volume)} if self.volume else {}

    def gate(self, name: str | None, inline: Mapping[str, Any], where: str) -> GateSpec:
        """The profile's named gate with the marker's own values laid over it."""
        base: dict[str, Any] = {}
        if name:
            if name not in self.gates:
                known = ", ".join(sorted(self.gates))
                raise ThresholdError(f"{where}: gate {name!r} is not in profile {self.profile!r} (known: {known})")
            base = dict(self.gates[name])
        from .gates.gate_spec import parse_gate

        return parse_gate({**base, **inline, "name": name or ""}, where)


def refuse_empty_values(options: Mapping[str, Any]) -> None:
    """An empty value is an error, not "not given": an unset ``$DB`` in CI would silently mean the default.

    ``options`` maps option dests (``prodready_sqlite``) to what the command line gave.
    """
    for dest, value in options.items():
        if isinstance(value, str) and not value.strip():
            raise SettingsError(f"--{dest.replace('_', '-')}: empty value (an unset variable?); give one or leave the option out")


def check_target(settings: Settings) -> None:
    """Import a ``--prodready-target`` factory and check it can take a context, before any test runs.

    Kept out of :func:`resolve`, which reads settings and imports no user code.
    """
    if settings.uses_reference:
        return
    from .target import TargetLoadError, load_factory  # the target's adapter types: only for a factory of the user's

    try:
        load_factory(settings.target)
    except TargetLoadError as exc:
        raise SettingsError(f"--prodready-target: {exc}") from exc


def read_pyproject(path: Path) -> dict[str, Any]:
    """The ``[tool.prodready]`` table of a pyproject file ({} when absent)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read it as TOML ({exc})") from exc
    tool = data.get("tool", {})
    table = tool.get("prodready", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise SettingsError(f"{path} [tool.prodready]: expected a table")
    return table


def validate_table(table: Mapping[str, Any], where: str) -> None:
    """Reject unknown keys and wrong types with the key's dotted path."""
    if not table or surely_valid(table, CONFIG_SCHEMA):
        return  # a valid table, the common case, does not import jsonschema
    import jsonschema  # decides (and words the error) whenever the quick check is not sure

    validator = jsonschema.Draft202012Validator(CONFIG_SCHEMA)
    error = jsonschema.exceptions.best_match(validator.iter_errors(table))
    if error is None:
        return
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties" and error.validator_value is False:
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        key = ".".join(filter(None, [path, extra[0] if extra else ""]))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        raise SettingsError(f"{where}: unknown key {key!r} (expected one of: {allowed})")
    raise SettingsError(f"{where}: key {path!r}: {error.message}")


def resolve(
    cli: Mapping[str, Any],
    pyproject: Path | None,
    rootdir: Path,
    invocation_dir: Path,
) -> Settings:
    """Merge CLI values over the config file's and check the result."""
    where = f"{pyproject} [tool.prodready]" if pyproject else "[tool.prodready]"
    table = read_pyproject(pyproject) if pyproject else {}
    validate_table(table, where)

    def pick(dest: str) -> tuple[Any, Path]:
        if cli.get(dest) is not None:
            return cli[dest], invocation_dir
        return table.get(OPTION_KEYS[dest]), rootdir

    target, _ = pick("prodready_target")
    sqlite, sqlite_base = pick("prodready_sqlite")
    profile, _ = pick("prodready_profile")
    html, html_base = pick("prodready_html")
    json_path, json_base = pick("prodready_json")

    profiles = merged_profiles(table.get("profiles", {}))
    escalations = {name: bool(gates.pop(ESCALATE_KEY, False)) for name, gates in profiles.items()}
    waivers = {name: frozenset(gates.pop(WAIVE_KEY, ())) for name, gates in profiles.items()}
    profile = profile or DEFAULT_PROFILE
    if profile not in profiles:
        raise SettingsError(f"--prodready-profile: unknown profile {profile!r} (known: {', '.join(sorted(profiles))})")
    _check_profile_gates(profiles, table.get("profiles", {}), where)

    save_name, _ = pick("prodready_save_baseline")
    compare_name, _ = pick("prodready_compare")
    bound, _ = pick("prodready_max_regression")
    metric, _ = pick("prodready_regression_metric")
    min_change, _ = pick("prodready_min_regression")
    folder, folder_base = pick("prodready_baseline_dir")
    summary_md, summary_base = pick("prodready_summary_md")
    baseline_dir = folder_base / (folder or DEFAULT_BASELINE_DIR)
    metric = metric or baselines.DEFAULT_METRIC
    if metric not in baselines.METRICS:
        raise SettingsError(f"--prodready-regression-metric: {metric!r} is not one of {', '.join(baselines.METRICS)}")
    try:
        bound_pct = baselines.parse_bound(bound) if bound is not None else 10.0
        min_regression = baselines.parse_min_change(min_change) if min_change is not None else baselines.DEFAULT_MIN_REGRESSION
        loaded = _check_baselines(baseline_dir, save_name, compare_name) if save_name or compare_name else None
    except baselines.BaselineError as exc:
        raise SettingsError(str(exc)) from exc

    try:
        timeouts = parse_timeouts(table, where)
    except TimeoutSettingError as exc:
        raise SettingsError(str(exc)) from exc

    target_url, _ = pick("prodready_target_url")
    baseline_url, _ = pick("prodready_baseline_url")
    if baseline_url and not target_url:
        raise SettingsError(MISSING_TARGET)
    inconclusive, _ = pick("prodready_canary_inconclusive")
    if inconclusive is not None and inconclusive not in INCONCLUSIVE_POLICIES:
        raise SettingsError(f"--prodready-canary-inconclusive: expected 'go' or 'no-go', got {inconclusive!r}")

    pin_cpu, _ = pick("prodready_pin_cpu")
    if pin_cpu is not None and pin_cpu not in PIN_POLICIES:
        raise SettingsError(f"--prodready-pin-cpu: expected 'auto' or 'off', got {pin_cpu!r}")

    schema = None
    if "schema" in table:
        from .checks.schema_expectation import SchemaConfigError, from_config as schema_from_config  # aiosqlite

        try:
            schema = schema_from_config(table["schema"], rootdir)
        except SchemaConfigError as exc:
            raise SettingsError(str(exc)) from exc

    requirements: dict[str, dict[str, int]] = {"smoke": dict(SMOKE_REQUIREMENTS)}
    for domain, counts in table.get("require", {}).items():
        requirements[domain] = dict(counts)  # a domain's table replaces the shipped one

    return Settings(
        target=target or REFERENCE_TARGET,
        sqlite=check_sqlite_file(sqlite_base / sqlite) if sqlite else None,
        profile=profile,
        html_path=html_base / (html or DEFAULT_HTML),
        json_path=json_base / (json_path or DEFAULT_JSON),
        volume=dict(table.get("volume", {})),
        requirements=requirements,
        gates=profiles[profile],
        explicit=any(cli.get(dest) is not None for dest in OPTION_KEYS) or bool(cli.get("prodready")),
        config_file=pyproject,
        save_baseline=save_name,
        baseline=loaded,
        baseline_dir=baseline_dir,
        max_regression_pct=bound_pct,
        regression_metric=metric,
        min_regression=min_regression,
        escalate_warnings=escalations[profile],
        waived=waivers[profile],
        summary_md=summary_base / summary_md if summary_md else None,
        allow_writes=bool(pick("prodready_allow_writes")[0]),
        timeouts=timeouts,
        target_url=target_url,
        baseline_url=baseline_url,
        canary_inconclusive=inconclusive or "go",
        pin_cpu=pin_cpu or DEFAULT_PIN_POLICY,
        schema=schema,
    )


def _check_baselines(folder: Path, save_name: str | None, compare_name: str | None) -> Baseline | None:
    """The baseline a run adds to must be one; the one it compares with is loaded (None without one)."""
    from .gates import baseline

    if save_name and baseline.baseline_path(folder, save_name).exists():
        baseline.load(folder, save_name)  # a run is added to it: it must be a baseline
    return baseline.load(folder, compare_name) if compare_name else None


def _check_profile_gates(profiles: Mapping[str, Mapping[str, Any]], user: Mapping[str, Mapping[str, Any]], where: str) -> None:
    """Each gate the user's table sets or changes, in the merged profiles' order (so the first mistake is named).

    A shipped gate nobody changed needs no check (tests/test_settings.py parses
    every one), and a table that changes none does not import the gate model.
    """
    changed = {(profile_name, gate_name) for profile_name, gates in user.items() for gate_name in gates}
    if not changed:
        return
    from .gates.gate_spec import parse_gate

    for profile_name, gates in profiles.items():
        for gate_name, spec in gates.items():
            if (profile_name, gate_name) not in changed:
                continue
            try:
                parse_gate(spec, f"{where} profiles.{profile_name}.{gate_name}")
            except ThresholdError as exc:
                raise SettingsError(str(exc)) from exc


def check_sqlite_file(path: Path) -> Path:
    """Fail fast, in one line, on a path that is not an SQLite database."""
    shown = str(path) if str(path).isprintable() else repr(str(path))  # keep the message on one line
    try:
        if not path.exists():
            raise SettingsError(f"--prodready-sqlite {shown}: no such file")
        if not path.is_file():
            raise SettingsError(f"--prodready-sqlite {shown}: not a file")
        from .checks.sqlite import header_problem  # aiosqlite: only when a database is named

        problem = header_problem(path)
    except OSError as exc:
        raise SettingsError(f"--prodready-sqlite {shown}: cannot read it ({exc.strerror})") from exc
    if problem:
        raise SettingsError(f"--prodready-sqlite {shown}: {problem}")
    return path.resolve()
