"""The object the ``load_runner`` fixture hands a test: ``run(locustfile, host, **overrides)``.

It turns the test's ``@pytest.mark.load(...)`` into a run plan, runs it,
prints progress and the one-line summary on the terminal (past output
capture, so long runs show signs of life), and hands the result to ``record``
(the fixture keeps it on the test item; the plugin judges it after the test body).
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Mapping

import pytest

from ..limits import ThresholdError
from .. import systems
from ..usage import UsageMistake
from ..net.loopback import RemoteHostError
from .results import LoadResult, LoadResultError
from .locust_process import API_KEY_ENV, LoadPlan, LoadRunError, run_load
from .load_spec import LoadSpec, parse_load

Record = Callable[[LoadSpec, LoadResult, str], None]  # spec, result, the host it loaded
Report = Callable[[str], None]


class LoadHarness:
    """Runs locust for one test, with the marker's parameters as defaults."""

    def __init__(
        self,
        marker_kwargs: Mapping[str, Any],
        where: str,
        search_dirs: list[Path],
        workdir: Callable[[], Path],
        *,
        allow_remote: bool,
        record: Record,
        report: Report,
    ):
        self.marker_kwargs = dict(marker_kwargs)
        self.where = where
        self.search_dirs = search_dirs
        self.workdir = workdir
        self.allow_remote = allow_remote
        self.record = record
        self.report = report

    def run(
        self,
        locustfile: str | Path,
        host: str,
        *,
        api_key: str | None = None,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> LoadResult:
        """Run ``locustfile`` against ``host`` (loopback only) and return what locust measured.

        ``api_key`` reaches the locustfile as ``PRODREADY_API_KEY``; ``env``
        adds other variables; keyword ``overrides`` replace the marker's
        values for this run.  The test's last run is judged after the test.
        """
        try:
            spec = parse_load({**self.marker_kwargs, **overrides}, self.where)
            located = self.locate(locustfile)
        except (ThresholdError, LoadRunError) as exc:  # the call is wrong: a usage error, not a load failure
            raise UsageMistake(f"load_runner.run: {exc}") from None
        try:
            extra = {**(env or {}), **({API_KEY_ENV: api_key} if api_key else {})}
            plan = LoadPlan(located, host, spec, self.workdir(), extra, self.allow_remote)
            result = run_load(plan, progress=self.report)
        except (ThresholdError, RemoteHostError, LoadRunError, LoadResultError) as exc:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        self.report(f"load {result.summary()}")
        self.record(spec, result, host)
        return result

    def locate(self, locustfile: str | Path) -> Path:
        """An absolute path as is; a relative one next to the test file first, then under the rootdir."""
        path = Path(locustfile)
        if path.is_absolute():
            return path
        candidates = [folder / path for folder in self.search_dirs]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise LoadRunError(f"locustfile {locustfile} not found (looked in {', '.join(map(str, self.search_dirs))})")
        return found.resolve()


def harness_for(item: pytest.Item, tmp_path_factory: pytest.TempPathFactory, record: Record) -> LoadHarness:
    """A harness bound to ``item``: its marker, its folder, the run's options; results go to ``record``."""
    config = item.config
    marker = item.get_closest_marker("load")
    return LoadHarness(
        marker.kwargs if marker is not None else {},
        item.nodeid,
        [item.path.parent, config.rootpath, config.invocation_params.dir],
        lambda: tmp_path_factory.mktemp("load"),
        allow_remote=bool(config.getoption("prodready_allow_remote_load", default=False)),
        record=record,
        report=terminal_reporter(config),
    )


def terminal_reporter(config: pytest.Config) -> Report:
    """Write lines on the terminal even while pytest captures output (no-op without a terminal)."""
    capture = config.pluginmanager.getplugin("capturemanager")
    terminal = config.pluginmanager.getplugin("terminalreporter")

    def report(line: str) -> None:
        if terminal is None:
            return
        with capture.global_and_fixture_disabled() if capture is not None else nullcontext():
            terminal.write_line(line)

    return report
