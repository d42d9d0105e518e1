"""Before the first case: what can only be checked by trying it, tried once.

``--prodready-target`` names a factory: its module, attribute and signature
are checked with the options, but only a call shows whether it returns an
adapter.  Called once here (and closed at once), a factory that returns
something else is a usage error of one line, not one error per case; one
that raises (its service is down) blocks the run with one NO-GO reason.

``--prodready-sqlite`` names a file SQLite may refuse (truncated, a damaged
schema page, a hot journal a read-only run cannot roll back, a lock held past
``query_timeout``, a WAL file whose ``-shm`` cannot be made): read once here
with the cases' own read-only probe, that is one NO-GO reason in SQLite's
words, as when ``--prodready-wait`` runs out, instead of the same error in
every case that reads it.  Either way no case runs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

import pytest

from .run_state import RunState
from .settings import Settings


async def database_refusal(path: Path, timeout_s: float) -> str | None:
    """Why SQLite cannot read the schema of ``path`` read-only, or None when it can."""
    from .checks.sqlite import ProbeError, SQLiteProbe  # aiosqlite: only a run given --prodready-sqlite needs it

    try:
        async with SQLiteProbe(path, timeout_s) as probe:
            await probe.tables()
    except ProbeError as exc:
        cause = exc.__cause__
        words = str(cause) if isinstance(cause, sqlite3.Error) else str(exc)
        return f"--prodready-sqlite {path}: SQLite cannot read it: {words}"
    return None


async def target_refusal(settings: Settings) -> str | None:
    """Why the target's factory cannot build it, or None once it has (and the target is closed again).

    A factory that returns no adapter raises :class:`TargetLoadError`: the caller's usage error.
    """
    from .target import TargetContext, TargetLoadError, build_target  # only for a factory of the user's

    with tempfile.TemporaryDirectory(prefix="prodready-target-check-") as workdir:
        try:
            built = await build_target(settings.target, TargetContext(Path(workdir), settings.target_options))
        except TargetLoadError:
            raise
        except Exception as exc:  # the factory's own failure: its service is down, its config is wrong ...
            return f"--prodready-target {settings.target}: the factory raised {type(exc).__name__}: {exc}"
        await built.close()
    return None


class Preflight:
    """Registered on the process that judges; runs after ``--prodready-wait`` and before the run loop."""

    def __init__(self, state: RunState, settings: Settings) -> None:
        self.state = state
        self.settings = settings

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Raise a usage error, or end the run here, blocked; otherwise let the cases run."""
        if session.testsfailed or session.config.option.collectonly:
            return None  # collection errors and --collect-only are pytest's to report
        reason = self._refusal()
        if reason is None:
            return None
        self.state.blocked = reason
        terminal = session.config.pluginmanager.getplugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(reason)
        return True

    def _refusal(self) -> str | None:
        settings = self.settings
        if not settings.uses_reference:
            from .target import TargetLoadError

            try:
                reason = asyncio.run(target_refusal(settings))
            except TargetLoadError as exc:
                raise pytest.UsageError(f"--prodready-target: {exc}") from None
            if reason is not None:
                return reason
        if settings.sqlite is not None:
            return asyncio.run(database_refusal(settings.sqlite, settings.timeouts.query_s))
        return None
