"""The run's settings and secret redactor, kept on ``config.stash`` and built on first use.

An ordinary run (no ``--prodready*`` option, no ``[tool.prodready]``) never
needs them, so it never imports the settings model or reads the environment
for secrets; a run that configures the plugin resolves its settings in
``pytest_configure``, so a bad key stops it before any test.  The
annotations are strings so that defining the keys imports nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .report.redaction import Redactor
    from .settings import Settings

SETTINGS_KEY = pytest.StashKey["Settings"]()
REDACTOR_KEY = pytest.StashKey["Redactor"]()


def asked(config: pytest.Config) -> bool:
    """A ``--prodready*`` option was given on the command line."""
    return any(
        value is not None and value is not False
        for name, value in vars(config.option).items()
        if name.startswith("prodready")
    )


def pyproject(config: pytest.Config) -> Path | None:
    """The pyproject.toml that holds ``[tool.prodready]``, if any."""
    if config.inipath is not None and config.inipath.name == "pyproject.toml":
        return config.inipath
    candidate = config.rootpath / "pyproject.toml"
    return candidate if candidate.is_file() else None


def mentions_prodready(path: Path, *also: bytes) -> bool:
    """A pyproject.toml without the word (and ``also``) cannot configure the plugin: no need to parse it."""
    if path.name != "pyproject.toml":
        return True
    try:
        data = path.read_bytes()
    except OSError:
        return True  # let the reader report it
    return all(word in data for word in (b"prodready", *also))


def configured(config: pytest.Config) -> bool:
    """An option was given or the project's pyproject.toml names the plugin."""
    found = pyproject(config)
    return asked(config) or (found is not None and mentions_prodready(found))


def distributing(config: pytest.Config) -> bool:
    """pytest-xdist hands this run's tests to workers (``-n`` / ``--dist``)."""
    return config.getoption("dist", "no") != "no"


def settings_of(config: pytest.Config) -> Settings:
    """CLI options over ``[tool.prodready]``, resolved once; a bad value is pytest's usage error."""
    found = config.stash.get(SETTINGS_KEY, None)
    if found is None:
        from .settings import OPTION_KEYS, SettingsError, check_target, refuse_empty_values, resolve

        cli = {dest: config.getoption(dest) for dest in (*OPTION_KEYS, "prodready")}
        try:
            refuse_empty_values({dest: value for dest, value in vars(config.option).items() if dest.startswith("prodready")})
            found = resolve(cli, pyproject(config), config.rootpath, config.invocation_params.dir)
            check_target(found)
        except SettingsError as exc:
            raise pytest.UsageError(str(exc)) from None
        config.stash[SETTINGS_KEY] = found
    return found


def redactor_of(config: pytest.Config) -> Redactor:
    """Masks the secrets of this process's environment (and any the run adds) in every output."""
    found = config.stash.get(REDACTOR_KEY, None)
    if found is None:
        from .report.redaction import Redactor

        found = config.stash[REDACTOR_KEY] = Redactor.from_environment(os.environ)
    return found
