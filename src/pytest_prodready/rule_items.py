"""Rule files as pytest items: one test per declared consistency rule, no Python written.

pytest collects a ``prodready.toml`` wherever it looks, and a pyproject.toml
that declares ``[tool.prodready.consistency]``.  A run whose arguments come
from ``testpaths`` never visits the rootdir's pyproject.toml, so its rules are
added to the run's arguments.  A mistake in a rule file (a bad key, or a
table, column, label or property its store lacks) is a usage error of one
line that names the file, the rule and the key: exit 4, before any rule runs.
A Neo4j store is connected once per run and shared by its rules.
"""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path
from typing import Any, Coroutine, Iterator, TypeVar

import pytest

from .checks.rule_preparation import prepare
from .checks.rulebook import RuleBook, declares_rules, load
from .checks.rules import Outcome, RuleError, RuleSpec
from .checks.rule_runner import CheckError, run_rule
from .checks.stores import Neo4jStore, OpenGraphs, StoreError
from . import case_warnings, systems
from .readiness_case import INFO_KEY, figures
from .session import settings_of

# Rule-file mistakes noted while collecting, raised as one usage error once collection ends.
RULE_FILE_ERRORS_KEY = pytest.StashKey[list[str]]()

T = TypeVar("T")


OPEN_GRAPHS_KEY = pytest.StashKey["OpenGraphs"]()  # the run's Neo4j drivers, one per store


class RuleFailed(Exception):
    """A rule whose value misses its threshold; shown as the rule's message."""


class ConsistencyWarning(UserWarning):
    """A rule of severity 'warn' missed its threshold: reported, not failed."""


def collect_rule_file(file_path: Path, parent: pytest.Collector) -> "RuleFile | None":
    """The collector for a rule file, or None for any other file."""
    if declares_rules(file_path):
        return RuleFile.from_parent(parent, path=file_path)
    return None


def add_pyproject_rules(config: pytest.Config, pyproject: Path | None) -> None:
    """Collect the rootdir pyproject's rules in runs whose arguments come from ``testpaths``."""
    if pyproject is None or config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    if declares_rules(pyproject) and str(pyproject) not in config.args:
        config.args.append(str(pyproject))


def open_graphs(config: pytest.Config) -> OpenGraphs:
    """The run's Neo4j drivers, one per store, closed when the run ends."""
    if OPEN_GRAPHS_KEY not in config.stash:
        graphs = config.stash[OPEN_GRAPHS_KEY] = OpenGraphs()
        config.add_cleanup(graphs.close)
    return config.stash[OPEN_GRAPHS_KEY]


class RuleFile(pytest.File):
    """A pyproject.toml or prodready.toml holding consistency rules.

    A mistake in the file is a usage error, as one in ``[tool.prodready]`` is:
    it is noted here and raised, one line, once collection ends
    (:func:`raise_rule_file_errors`, exit 4); an xdist worker sends it to
    its controller instead (:mod:`.worker_usage`), which exits 4 too.
    """

    def collect(self) -> Iterator["RuleItem"]:
        settings = settings_of(self.config)
        try:
            book = load(self.path, _shown(self.path, self.config.rootpath), settings.sqlite, settings.timeouts)
            prepared = _run(prepare(book, open_graphs(self.config)))
        except RuleError as exc:
            self.config.stash.setdefault(RULE_FILE_ERRORS_KEY, []).append(str(exc))
            return  # raised once collection ends: exit 4, serially and (worker_usage.py) under xdist
        for spec, declared_as, names_checked in prepared:
            yield RuleItem.from_parent(self, name=spec.name, spec=spec, book=book, declared_as=declared_as,
                                       names_checked=names_checked)


def check_pyproject_rules(config: pytest.Config, pyproject: Path | None) -> None:
    """The rootdir pyproject's rules, checked with the options: an xdist controller collects nothing.

    A mistake there would otherwise surface only on the workers, where a
    usage error ends the run as "no tests collected" (exit 5), not exit 4.
    """
    if pyproject is None or not declares_rules(pyproject):
        return
    settings = settings_of(config)
    try:
        load(pyproject, _shown(pyproject, config.rootpath), settings.sqlite, settings.timeouts)
    except RuleError as exc:
        raise pytest.UsageError(str(exc)) from None


def raise_rule_file_errors(config: pytest.Config) -> None:
    """The first rule-file mistake collection noted, as pytest's usage error (exit 4)."""
    errors = config.stash.get(RULE_FILE_ERRORS_KEY, [])
    if errors:
        raise pytest.UsageError(errors[0])


class RuleItem(pytest.Item):
    """One consistency rule, counted in the verdict under ``consistency / <rule name>``."""

    def __init__(self, *, spec: RuleSpec, book: RuleBook, declared_as: str | None = None,
                 names_checked: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.book = book
        self.declared_as = declared_as
        self.names_checked = names_checked  # at collection: the run time is the rule's own queries
        self.add_marker(pytest.mark.consistency(rule=spec.name, severity=spec.severity))

    def runtest(self) -> None:
        outcome: Outcome = _run(self._measure())
        figures(self).setdefault("consistency", []).append(outcome.to_figures())
        if outcome.passed:
            return
        if self.stash[INFO_KEY]["severity"] == "warn":
            case_warnings.note(self, [outcome.message])
            warnings.warn(ConsistencyWarning(outcome.message), stacklevel=1)
            return
        raise RuleFailed(outcome.message)

    async def _measure(self) -> Outcome:
        """The rule on its stores, a Neo4j one through the run's shared driver."""
        graphs = open_graphs(self.config)
        stores = [store for store in self.book.sources(self.spec, self.declared_as) if store is not None]
        systems.note(figures(self), *(systems.describe_store(store) for store in stores))
        try:
            source, compare_to = [await graphs.graph(store) if isinstance(store, Neo4jStore) else store
                                  for store in self.book.sources(self.spec, self.declared_as)]
        except StoreError as exc:
            raise CheckError(f"{self.spec.name}: cannot run: {exc}") from None
        return await run_rule(self.spec, source, compare_to, names_checked=self.names_checked)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (RuleFailed, CheckError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"consistency rule {self.spec.name} ({self.spec.check})"


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a private event loop, leaving any loop pytest-asyncio keeps untouched."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _shown(path: Path, rootpath: Path) -> str:
    """The rule file as errors name it: relative to the rootdir when it lies below it."""
    try:
        return str(path.relative_to(rootpath))
    except ValueError:
        return str(path)
