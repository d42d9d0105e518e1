"""The pytest side of wait-for-ready: options, and the wait before the first case runs.

Registered on the process that judges (the xdist controller, or the only
process of a serial run).  Its ``pytest_runtestloop`` runs before pytest's
and xdist's own loops: when the target never becomes ready it records the
reason and ends the loop, so no case runs and the verdict is one NO-GO
(``blocked``) instead of a failure per case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .net.loopback import ALLOW_OPTION
from .session import redactor_of, settings_of

if TYPE_CHECKING:
    from .run_state import RunState
    from .wait import Probe


def add_options(group: Any) -> None:
    """``--prodready-wait`` and what it polls."""
    group.addoption("--prodready-wait", metavar="DURATION",
                    help="before any case runs, poll the target until it is healthy, for at most DURATION "
                         "(e.g. 120s, 2m); if it never is, the verdict is one NO-GO.")
    group.addoption("--prodready-target-url", metavar="URL",
                    help=f"the candidate service: --prodready-wait polls GET URL/health, canary cases compare it "
                         f"with --prodready-baseline-url (loopback only unless {ALLOW_OPTION}).")
    group.addoption("--prodready-neo4j-uri", metavar="URI",
                    help="poll Neo4j's verify_connectivity (auth: PRODREADY_NEO4J_USER / PRODREADY_NEO4J_PASSWORD).")


class ReadinessWait:
    """Waits for the target once, before the run loop."""

    def __init__(self, config: pytest.Config, state: RunState, deadline_s: int, probes: list[tuple[str, Probe]]) -> None:
        self.config = config
        self.state = state
        self.deadline_s = deadline_s
        self.probes = probes

    @classmethod
    def from_options(cls, config: pytest.Config, state: RunState) -> ReadinessWait | None:
        """None without ``--prodready-wait``; a usage error when it is misused."""
        from .extras import MissingExtra
        from .limits import ThresholdError
        from .net.loopback import RemoteHostError
        from .limits import parse_duration

        given = config.getoption("prodready_wait", default=None)
        if given is None:
            return None
        try:
            deadline_s = parse_duration(given, "--prodready-wait")
            probes = _probes(config)
        except (ThresholdError, RemoteHostError, MissingExtra) as exc:
            raise pytest.UsageError(str(exc)) from None
        if not probes:
            raise pytest.UsageError(
                "--prodready-wait: nothing to poll (give --prodready-target-url, --prodready-sqlite or --prodready-neo4j-uri)"
            )
        return cls(config, state, deadline_s, probes)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        """Wait; on success let the ordinary loop run, otherwise end the run here."""
        from .wait import wait_until_ready  # urllib and its SSL set-up: only runs that wait pay for them

        result = wait_until_ready(self.probes, self.deadline_s, progress=self._progress)
        if result.ready:
            self._progress(f"target ready after {result.waited_s:.1f} s ({result.last_status})")
            return None
        self.state.blocked = result.reason()
        self._progress(self.state.blocked)
        return True

    def _progress(self, line: str) -> None:
        terminal = self.config.pluginmanager.getplugin("terminalreporter")
        if terminal is not None:  # a probe's name may hold a URI with a password
            terminal.write_line(redactor_of(self.config).text(line))


def _probes(config: pytest.Config) -> list[tuple[str, Probe]]:
    """One probe per thing the options name."""
    from .extras import require
    from .wait import health_url, http_health, neo4j_connects, sqlite_answers

    probes: list[tuple[str, Probe]] = []
    settings = settings_of(config)
    allow_remote = bool(config.getoption("prodready_allow_remote_load", default=False))
    for name, url in (("http", settings.target_url), ("baseline http", settings.baseline_url)):
        if url:  # named with what is polled, so a blocked run says which URL never answered
            probes.append((f"{name} {health_url(url)}", http_health(url, allow_remote=allow_remote)))
    sqlite = settings.sqlite
    if sqlite is not None:
        probes.append((f"sqlite {sqlite}", sqlite_answers(sqlite)))
    neo4j_uri = config.getoption("prodready_neo4j_uri", default=None)
    if neo4j_uri:
        require("neo4j", "--prodready-neo4j-uri")
        probes.append((f"neo4j {neo4j_uri}", neo4j_connects(neo4j_uri)))
    return probes
