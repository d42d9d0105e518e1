"""settings.resolve: CLI over [tool.prodready] over defaults; every mistake a one-line SettingsError."""

from __future__ import annotations

import datetime as dt
import sqlite3
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from pytest_prodready import settings as settings_module
from pytest_prodready.gates.gate_spec import parse_gate
from pytest_prodready.gates.profiles import PROFILE_SETTINGS, SHIPPED_PROFILES, merged_profiles
from pytest_prodready.settings import (
    DEFAULT_JSON,
    REFERENCE_TARGET,
    SettingsError,
    check_sqlite_file,
    read_pyproject,
    resolve,
    validate_table,
)
from pytest_prodready.verdict import SMOKE_REQUIREMENTS


def pyproject(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def resolve_in(tmp_path: Path, body: str | None = None, **cli):
    """Resolve with the root at tmp_path and the invocation in tmp_path/cwd."""
    path = pyproject(tmp_path, body) if body is not None else None
    invocation = tmp_path / "cwd"
    return resolve(cli, path, tmp_path, invocation)


def sqlite_file(path: Path) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute("create table t (x)")
    connection.close()
    return path


def test_defaults(tmp_path):
    settings = resolve_in(tmp_path)
    assert settings.target == REFERENCE_TARGET and settings.uses_reference
    assert settings.profile == "production"
    assert settings.gates == SHIPPED_PROFILES["production"]
    assert settings.html_path == tmp_path / "reports/readiness.html"
    assert settings.json_path == tmp_path / DEFAULT_JSON
    assert settings.sqlite is None
    assert settings.requirements == {"smoke": SMOKE_REQUIREMENTS}
    assert settings.explicit is False
    assert settings.volume == {}


def test_pyproject_beats_defaults_and_paths_are_relative_to_rootdir(tmp_path):
    sqlite_file(tmp_path / "app.db")
    settings = resolve_in(
        tmp_path,
        """
        [tool.prodready]
        target = "mine.adapter:build"
        profile = "staging"
        json = "out/ready.json"
        html = "out/ready.html"
        sqlite = "app.db"
        volume = {sessions = 10}
        """,
    )
    assert settings.target == "mine.adapter:build" and not settings.uses_reference
    assert settings.profile == "staging"
    assert settings.gates == SHIPPED_PROFILES["staging"]
    assert settings.json_path == tmp_path / "out/ready.json"
    assert settings.html_path == tmp_path / "out/ready.html"
    assert settings.sqlite == (tmp_path / "app.db").resolve()
    assert settings.volume == {"sessions": 10}
    assert settings.explicit is False, "config-file values alone do not switch the verdict on"
    assert settings.config_file == tmp_path / "pyproject.toml"


def test_cli_beats_pyproject_and_paths_are_relative_to_invocation_dir(tmp_path):
    (tmp_path / "cwd").mkdir()
    sqlite_file(tmp_path / "cwd" / "cli.db")
    settings = resolve_in(
        tmp_path,
        """
        [tool.prodready]
        target = "mine.adapter:build"
        profile = "staging"
        json = "out/ready.json"
        sqlite = "missing.db"
        """,
        prodready_target="other:make",
        prodready_profile="development",
        prodready_json="cli.json",
        prodready_sqlite="cli.db",
    )
    assert settings.target == "other:make"
    assert settings.profile == "development"
    assert settings.json_path == tmp_path / "cwd" / "cli.json"
    assert settings.sqlite == (tmp_path / "cwd" / "cli.db").resolve()
    assert settings.explicit is True


@pytest.mark.parametrize("cli", [{"prodready": True}, {"prodready_html": "x.html"}, {"prodready_profile": "staging"}])
def test_any_prodready_option_makes_the_run_explicit(tmp_path, cli):
    assert resolve_in(tmp_path, **cli).explicit is True


def test_none_and_false_cli_values_fall_through(tmp_path):
    settings = resolve_in(tmp_path, '[tool.prodready]\nprofile = "staging"\n', prodready_profile=None, prodready=False)
    assert settings.profile == "staging" and settings.explicit is False


def test_a_require_table_replaces_that_domains_defaults(tmp_path):
    """[tool.prodready.require.smoke] is the whole smoke requirement, not a patch over the shipped one."""
    settings = resolve_in(
        tmp_path,
        """
        [tool.prodready.require.smoke]
        connectivity = 1
        extra = 2
        [tool.prodready.require.consistency]
        foreign_keys = 3
        """,
    )
    assert settings.requirements["smoke"] == {"connectivity": 1, "extra": 2}
    assert settings.requirements["consistency"] == {"foreign_keys": 3}
    assert SMOKE_REQUIREMENTS["connectivity"] == 5, "defaults are not mutated"


def test_user_profile_and_gate_override(tmp_path):
    settings = resolve_in(
        tmp_path,
        """
        [tool.prodready]
        profile = "ci"
        [tool.prodready.profiles.ci.session_retrieval]
        p99_ms = 100
        [tool.prodready.profiles.production.session_retrieval]
        p99_ms = 15
        """,
    )
    assert settings.profile == "ci"
    assert settings.gates == {"session_retrieval": {"p99_ms": 100}}
    production = resolve_in(tmp_path, None)  # the file above is not read without a path
    assert production.gates["session_retrieval"]["p99_ms"] == 20


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[tool.prodready]\ncolour = "red"\n', "'colour'"),
        ("[tool.prodready.volume]\nsesions = 10\n", "'volume.sesions'"),
    ],
)
def test_unknown_key_is_named(tmp_path, body, key):
    with pytest.raises(SettingsError) as excinfo:
        resolve_in(tmp_path, body)
    message = str(excinfo.value)
    assert f"unknown key {key}" in message
    assert str(tmp_path / "pyproject.toml") in message
    assert "\n" not in message


def test_unknown_key_lists_the_allowed_ones(tmp_path):
    with pytest.raises(SettingsError, match=r"expected one of: documents, memories, sessions"):
        resolve_in(tmp_path, "[tool.prodready.volume]\nsesions = 10\n")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[tool.prodready.volume]\nsessions = "many"\n', "'volume.sessions'"),
        ("[tool.prodready.volume]\nsessions = -1\n", "'volume.sessions'"),
        ("[tool.prodready.volume]\nmemories = 1000001\n", "'volume.memories'.*maximum of 1000000"),
        ("[tool.prodready]\ntarget = 5\n", "'target'"),
        ('[tool.prodready]\nrequire = {smoke = {connectivity = "all"}}\n', "'require.smoke.connectivity'"),
        ("[tool.prodready]\nprofiles = {production = 3}\n", "'profiles.production'"),
    ],
)
def test_wrong_type_names_the_key(tmp_path, body, key):
    with pytest.raises(SettingsError, match=f"key {key}"):
        resolve_in(tmp_path, body)


def test_unknown_profile(tmp_path):
    with pytest.raises(SettingsError) as excinfo:
        resolve_in(tmp_path, prodready_profile="prod")
    assert "unknown profile 'prod'" in str(excinfo.value)
    assert "development, production, staging" in str(excinfo.value)


def test_unknown_profile_from_pyproject(tmp_path):
    with pytest.raises(SettingsError, match="unknown profile 'qa'"):
        resolve_in(tmp_path, '[tool.prodready]\nprofile = "qa"\n')


def test_negative_threshold_in_active_profile(tmp_path):
    with pytest.raises(SettingsError) as excinfo:
        resolve_in(tmp_path, "[tool.prodready.profiles.production.session_retrieval]\np99_ms = -5\n")
    message = str(excinfo.value)
    assert "profiles.production.session_retrieval: p99_ms: expected a positive number, got -5" in message


def test_unknown_threshold_key_in_profile(tmp_path):
    with pytest.raises(SettingsError, match="unknown threshold key 'p98_ms'"):
        resolve_in(tmp_path, "[tool.prodready.profiles.production.db_query]\np98_ms = 5\n")


def test_bad_toml(tmp_path):
    with pytest.raises(SettingsError, match="cannot read it as TOML"):
        resolve_in(tmp_path, "[tool.prodready\nprofile = \n")


def test_prodready_not_a_table(tmp_path):
    with pytest.raises(SettingsError, match=r"\[tool.prodready\]: expected a table"):
        resolve_in(tmp_path, "[tool]\nprodready = 3\n")


def test_missing_pyproject_is_an_empty_table(tmp_path):
    assert read_pyproject(tmp_path / "nope.toml") == {}


def test_pyproject_without_our_table(tmp_path):
    assert read_pyproject(pyproject(tmp_path, "[tool.other]\nx = 1\n")) == {}


def test_check_sqlite_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="no such file"):
        check_sqlite_file(tmp_path / "missing.db")


def test_check_sqlite_directory(tmp_path):
    with pytest.raises(SettingsError, match="not a file"):
        check_sqlite_file(tmp_path)


@pytest.mark.parametrize("content", [b"hello, I am text\n" * 10, b"", b"SQLite format 2\x00rest"])
def test_check_sqlite_not_a_database(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(SettingsError, match="not an SQLite database"):
        check_sqlite_file(path)


def test_check_sqlite_real_file(tmp_path):
    path = sqlite_file(tmp_path / "real.db")
    assert check_sqlite_file(path) == path.resolve()


def test_check_sqlite_name_too_long(tmp_path):
    with pytest.raises(SettingsError):
        check_sqlite_file(tmp_path / ("x" * 5000))


def test_check_sqlite_message_stays_on_one_line(tmp_path):
    with pytest.raises(SettingsError) as excinfo:
        check_sqlite_file(tmp_path / "a\nb.db")
    assert "\n" not in str(excinfo.value) and "no such file" in str(excinfo.value)


def test_cli_sqlite_errors_through_resolve(tmp_path):
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "notes.txt").write_text("plain text\n")
    with pytest.raises(SettingsError, match=r"--prodready-sqlite .*notes.txt: not an SQLite database"):
        resolve_in(tmp_path, prodready_sqlite="notes.txt")


# --- arbitrary tables -------------------------------------------------------------

KNOWN = ["target", "sqlite", "profile", "html", "json", "volume", "require", "profiles",
         "sessions", "memories", "smoke", "connectivity", "production", "staging",
         "session_retrieval", "p99_ms", "samples", "name", "save_baseline", "compare",
         "max_regression", "regression_metric", "baseline_dir"]
keys = st.one_of(st.sampled_from(KNOWN), st.text(max_size=12))
scalars = st.one_of(
    st.none(),  # not TOML, but a reader must not be trusted either
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["production", "staging", "x" * 300, "mod:fac", "."]),
    st.datetimes(),
    st.dates(),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
                      max_leaves=12)
counts = st.dictionaries(keys, st.one_of(st.integers(min_value=0, max_value=100), values), max_size=3)
gate_values = st.one_of(st.integers(min_value=-5, max_value=10**6), st.floats(), st.text(max_size=5), st.booleans())
gate_tables = st.dictionaries(
    st.one_of(st.sampled_from(["p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "min_ops_per_s",
                               "samples", "warmup", "concurrency", "name"]), keys),
    gate_values, max_size=4)
profile_names = st.one_of(st.sampled_from(["production", "staging", "development", "ci"]), st.text(max_size=8))
gate_names = st.one_of(st.sampled_from(sorted(SHIPPED_PROFILES["production"])), st.text(max_size=8))
plausible = st.fixed_dictionaries(
    {},
    optional={
        "target": st.one_of(st.text(max_size=20), values),
        "sqlite": st.one_of(st.sampled_from(["app.db", ".", "x" * 300, "a\x00b", "/"]), st.text(max_size=12), values),
        "profile": st.one_of(profile_names, values),
        "html": st.one_of(st.text(max_size=20), values),
        "json": st.one_of(st.text(max_size=20), values),
        "volume": st.one_of(st.dictionaries(st.sampled_from(["sessions", "memories", "documents"]),
                                            st.integers(min_value=-2, max_value=10**6)), values),
        "require": st.one_of(st.dictionaries(keys, counts, max_size=3), values),
        "save_baseline": st.one_of(st.sampled_from(["main", "../up", "a b"]), st.text(max_size=8), values),
        "compare": st.one_of(st.sampled_from(["main", "../up"]), st.text(max_size=8), values),
        "max_regression": st.one_of(st.sampled_from(["10%", "10", "-5%", "1e400", "nan"]), st.floats(),
                                    st.integers(), values),
        "regression_metric": st.one_of(st.sampled_from(["p50_ms", "p95_ms", "p99_ms", "mean_ms"]), values),
        "baseline_dir": st.one_of(st.text(max_size=12), values),
        "profiles": st.one_of(st.dictionaries(profile_names, st.dictionaries(gate_names, gate_tables, max_size=3),
                                              max_size=3), values),
    },
)
tables = st.one_of(plausible, st.dictionaries(keys, values, max_size=6))


@hyp_settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(table=tables)
def test_arbitrary_table_never_raises_anything_but_settings_error(tmp_path, table):
    """Whatever [tool.prodready] holds, resolve either succeeds or raises SettingsError."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings_module, "read_pyproject", lambda path: table)
        try:
            validate_table(table, "where")
        except SettingsError as exc:
            assert "\n" not in str(exc)
        try:
            resolve({}, tmp_path / "pyproject.toml", tmp_path, tmp_path)
        except SettingsError as exc:
            assert "\n" not in str(exc)


@hyp_settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.sampled_from([-1, 0, -0.5, "fast", True, float("nan"), float("inf")]),
       key=st.sampled_from(["p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms", "min_ops_per_s"]))
def test_bad_profile_threshold_always_caught(tmp_path, value, key):
    table = {"profiles": {"production": {"api_response": {key: value}}}}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings_module, "read_pyproject", lambda path: table)
        with pytest.raises(SettingsError, match=f"profiles.production.api_response: {key}"):
            resolve({}, tmp_path / "pyproject.toml", tmp_path, tmp_path)


def test_datetime_value_is_a_type_error(tmp_path):
    """TOML dates are a distinct type; a date where a string belongs is refused."""
    with pytest.raises(SettingsError, match="key 'profile'"):
        validate_table({"profile": dt.date(2024, 1, 1)}, "where")


def test_the_largest_volume_is_accepted(tmp_path):
    assert resolve_in(tmp_path, "[tool.prodready.volume]\nmemories = 1000000\n").volume == {"memories": 1_000_000}


def test_every_shipped_profile_gate_is_valid():
    """resolve() checks only the gates a [tool.prodready] table sets or changes: the shipped ones must all parse."""
    checked = 0
    for profile_name, gates in merged_profiles({}).items():
        for gate_name, spec in gates.items():
            if gate_name not in PROFILE_SETTINGS:
                parse_gate(spec, f"shipped profiles.{profile_name}.{gate_name}")
                checked += 1
    assert checked >= 3


def test_a_mistake_in_a_changed_shipped_gate_is_named(tmp_path):
    gate = next(name for name in SHIPPED_PROFILES["staging"] if name not in PROFILE_SETTINGS)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.prodready.profiles.staging.{gate}]\np95_ms = -1\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=rf"profiles\.staging\.{gate}"):
        resolve({}, pyproject, tmp_path, tmp_path)
