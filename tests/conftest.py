"""Shared fixtures of the project's tests: pytester projects, the shipped graph datasets and a real Neo4j server.

``PRODREADY_NEO4J_URI`` (``.ci/run`` exports it) names a running server;
without it the session starts one with ``tools/neo4j/launcher.py`` and stops
it at the end.  A server that cannot start makes every test that needs it an
error, never a skip.  Tests sharing a server load their graphs under labels
of their own and delete them afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest
import pytest_asyncio

from pytest_prodready.checks.graph import GraphNames, Neo4jGraph
from pytest_prodready.datasets import GraphData
from pytest_prodready.datasets.knowledge_graph import COLUMNS
from pytest_prodready.datasets.loaders import clear_neo4j, write_neo4j, write_sqlite

from .sessions import BASE_TOML

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
LAUNCHER = ROOT / "tools" / "neo4j" / "launcher.py"


@pytest.fixture
def project(pytester: pytest.Pytester) -> Callable[[str], pytest.Pytester]:
    """A pytester folder with a quiet pyproject; call it with extra TOML to append."""

    def make(extra_toml: str = "") -> pytest.Pytester:
        pytester.makepyprojecttoml(BASE_TOML + extra_toml)
        return pytester

    make()
    return make


@pytest.fixture(scope="session")
def clean_graph_data() -> GraphData:
    """tests/data/graph_clean.json: every graph rule passes on it."""
    return GraphData.load(DATA / "graph_clean.json")


@pytest.fixture(scope="session")
def faults_graph_data() -> GraphData:
    """tests/data/graph_faults.json: the clean graph with known numbers of each fault."""
    return GraphData.load(DATA / "graph_faults.json")


@pytest.fixture
def graph_db(tmp_path: Path) -> Callable[..., Path]:
    """``graph_db(data)`` writes a dataset to a fresh SQLite file and returns its path."""

    def write(data: GraphData, name: str = "graph.db") -> Path:
        return write_sqlite(tmp_path / name, {table: data.rows(table) for table in COLUMNS})

    return write


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    """The bolt:// URI of a real Neo4j 5 server, auth disabled."""
    uri = os.environ.get("PRODREADY_NEO4J_URI")
    if uri:
        yield uri
        return
    spec = importlib.util.spec_from_file_location("neo4j_launcher", LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    server = launcher.start()
    try:
        yield server.uri
    finally:
        server.stop()


class Neo4jGraphs:
    """Loads datasets into the shared server under labels no other test uses."""

    def __init__(self, uri: str, driver: object) -> None:
        self.uri = uri
        self.driver = driver
        self.loaded: list[GraphNames] = []

    async def load(self, data: GraphData) -> Neo4jGraph:
        tag = uuid.uuid4().hex[:10]
        names = GraphNames(f"Entity_{tag}", f"RELATES_{tag}", f"Document_{tag}")
        self.loaded.append(names)
        await write_neo4j(self.driver, {table: data.rows(table) for table in COLUMNS}, names)
        return Neo4jGraph(self.uri, names=names)


@pytest_asyncio.fixture
async def neo4j_graphs(neo4j_uri: str) -> AsyncIterator[Neo4jGraphs]:
    """``await neo4j_graphs.load(data)`` -> an unopened Neo4jGraph over that data; cleared afterwards."""
    import neo4j

    driver = neo4j.AsyncGraphDatabase.driver(neo4j_uri, auth=None, notifications_min_severity="OFF")
    graphs = Neo4jGraphs(neo4j_uri, driver)
    try:
        yield graphs
    finally:
        for names in graphs.loaded:
            await clear_neo4j(driver, names)
        await driver.close()
