"""Consistency rules on a real Neo4j server: the same counts and report shape as on SQLite.

These tests never skip: without ``PRODREADY_NEO4J_URI`` the session starts
a server (tests/conftest.py), and a server that cannot start is an error.
"""

from __future__ import annotations

import copy

import neo4j
import pytest

from pytest_prodready.checks.assertions import Consistency
from pytest_prodready.checks.graph import GRAPH_RULES, GraphError, GraphNames, Neo4jGraph, quote_label
from pytest_prodready.checks.rules import make_rule
from pytest_prodready.checks.rule_runner import CheckError, run_rule
from pytest_prodready.checks.stores import Neo4jStore, OpenGraphs
from pytest_prodready.datasets.loaders import stub_label

pytestmark = pytest.mark.asyncio


async def measure(rule: str, source: object, against: object = None, **params: object):
    return await run_rule(make_rule(rule, params), source, against)


def without_backend(figures: dict) -> dict:
    return {key: value for key, value in figures.items() if key != "backend"}


@pytest.mark.parametrize("rule", GRAPH_RULES)
async def test_seeded_faults_are_counted_exactly(rule, neo4j_graphs, faults_graph_data):
    outcome = await measure(rule, await neo4j_graphs.load(faults_graph_data))
    assert outcome.value == pytest.approx(faults_graph_data.expected[rule])
    assert outcome.backend.startswith("neo4j bolt://")


@pytest.mark.parametrize("rule", GRAPH_RULES)
async def test_clean_graph_passes_the_shipped_thresholds(rule, neo4j_graphs, clean_graph_data):
    outcome = await measure(rule, await neo4j_graphs.load(clean_graph_data))
    assert outcome.passed, outcome.message
    assert outcome.value == clean_graph_data.expected[rule]


async def test_both_backends_report_the_same_figures(neo4j_graphs, graph_db, faults_graph_data):
    graph, db = await neo4j_graphs.load(faults_graph_data), graph_db(faults_graph_data)
    for rule in GRAPH_RULES:
        on_neo4j, on_sqlite = await measure(rule, graph), await measure(rule, db)
        assert without_backend(on_neo4j.to_figures()) == without_backend(on_sqlite.to_figures())


async def test_a_relationship_to_a_deleted_or_unlabelled_node_is_orphaned(neo4j_graphs, neo4j_uri, clean_graph_data):
    graph = await neo4j_graphs.load(clean_graph_data)
    touching = {r["id"] for r in clean_graph_data.relationships if 7 in (r["source_id"], r["target_id"])}
    touching |= {r["id"] for r in clean_graph_data.relationships if 9 in (r["source_id"], r["target_id"])}
    entity, unlabelled = quote_label(graph.names.entities), quote_label(stub_label(graph.names))
    async with neo4j.AsyncGraphDatabase.driver(neo4j_uri, auth=None) as driver:
        await driver.execute_query(f"MATCH (e:{entity} {{id: 7}}) SET e.deleted = true")
        await driver.execute_query(f"MATCH (e:{entity} {{id: 9}}) REMOVE e:{entity} SET e:{unlabelled}")
    outcome = await measure("orphaned_relationships", graph, sample=1000)
    assert outcome.value == len(touching)
    assert {row["id"] for row in outcome.sample} == touching


async def test_migration_completeness_sqlite_to_neo4j_and_neo4j_to_neo4j(neo4j_graphs, graph_db, faults_graph_data):
    graph = await neo4j_graphs.load(faults_graph_data)
    assert (await measure("migration_completeness", graph_db(faults_graph_data), graph, compare_to="graph")).value == 0
    partial = copy.deepcopy(faults_graph_data)
    partial.relationships = partial.relationships[:240]
    partial.entities = partial.entities[:120]
    migrated = await neo4j_graphs.load(partial)
    outcome = await measure("migration_completeness", graph, migrated, compare_to="migrated")
    assert outcome.value == 1
    assert outcome.note == "tolerance 5%: relations 303 -> 240 (-20.8%)"
    assert [row["type"] for row in outcome.details["types"]] == ["documents", "entities", "relations"]
    assert outcome.details["types"][1]["difference"] == pytest.approx(-5 / 125)


async def test_the_fixture_api_on_neo4j(neo4j_graphs, faults_graph_data):
    figures: dict = {}
    graph = await neo4j_graphs.load(faults_graph_data)
    with pytest.raises(AssertionError, match=r"^orphaned_relationships: 3 > 0 \(threshold == 0; sample: id=301 "):
        await Consistency(figures).assert_graph(graph)
    assert [f["value"] for f in figures["consistency"]][:4] == [3, 2, 7, 4]


async def test_reads_only_in_read_transactions(neo4j_graphs, clean_graph_data):
    async with await neo4j_graphs.load(clean_graph_data) as graph:
        with pytest.raises(GraphError, match="Writing in read access mode not allowed"):
            await graph.records("CREATE (:Intruder)")


async def test_a_query_past_its_timeout_is_stopped_by_the_server(neo4j_uri):
    async with Neo4jGraph(neo4j_uri, query_timeout_s=0.5) as graph:
        with pytest.raises(GraphError, match="not completed within the timeout"):
            await graph.records("UNWIND range(1, 5000000000) AS x RETURN count(x) AS n")


async def test_an_unreachable_server_is_a_check_error_naming_it():
    with pytest.raises(CheckError, match=r"cannot connect to Neo4j at bolt://127\.0\.0\.1:9"):
        await measure("orphaned_relationships", Neo4jGraph("bolt://127.0.0.1:9", connection_timeout_s=2))


async def test_graph_labels_lists_each_label_or_type_with_no_data(neo4j_graphs, clean_graph_data):
    graph = await neo4j_graphs.load(clean_graph_data)
    names = graph.names
    assert (await measure("graph_labels", graph, labels=[names.entities], types=[names.relationships])).passed
    missing = await measure("graph_labels", graph, labels=[names.entities, names.entities + "s"],
                            types=[names.relationships.lower()])
    assert missing.value == 2
    assert missing.sample == ({"missing": f"label {names.entities}s"}, {"missing": f"type {names.relationships.lower()}"})


async def test_property_exists_on_nodes_with_a_sample_and_a_misspelling_refused(neo4j_graphs, neo4j_uri,
                                                                                 clean_graph_data):
    graph = await neo4j_graphs.load(clean_graph_data)
    label = graph.names.entities
    assert (await measure("graph_property_exists", graph, label=label, properties=["name", "semantic_id"])).passed
    async with neo4j.AsyncGraphDatabase.driver(neo4j_uri, auth=None) as driver:
        await driver.execute_query(f"MATCH (e:{quote_label(label)}) WHERE e.id IN [4, 5] REMOVE e.name")
    missing = await measure("graph_property_exists", graph, label=label, properties=["name", "semantic_id"])
    assert missing.value == 2 and sorted(row["id"] for row in missing.sample) == [4, 5]
    assert missing.sample[0]["name"] is None
    with pytest.raises(CheckError, match=r"key 'properties': no property 'nmae' in the graph \(did you mean 'name'\?\)"):
        await measure("graph_property_exists", graph, label=label, properties=["nmae"])


async def test_unique_properties_count_groups_and_a_misspelled_label_is_refused(neo4j_graphs, clean_graph_data,
                                                                               faults_graph_data):
    clean, faults = await neo4j_graphs.load(clean_graph_data), await neo4j_graphs.load(faults_graph_data)
    assert (await measure("graph_unique", clean, label=clean.names.entities, properties="semantic_id")).passed
    duplicated = await measure("graph_unique", faults, label=faults.names.entities, properties="semantic_id")
    assert duplicated.value == faults_graph_data.expected["duplicate_semantic_ids"]
    assert duplicated.sample[0]["copies"] == 2 and duplicated.sample[0]["semantic_id"].startswith("ent:")
    misspelled = faults.names.entities.replace("Entity", "Entiti")
    with pytest.raises(CheckError, match=rf"key 'label': no label '{misspelled}' in the graph \(did you mean "
                                         rf"'{faults.names.entities}'\?\)"):
        await measure("graph_unique", faults, label=misspelled, properties="semantic_id")


async def test_allowed_values_on_relationships_and_a_misspelled_type_is_refused(neo4j_graphs, clean_graph_data):
    graph = await neo4j_graphs.load(clean_graph_data)
    kind = graph.names.relationships
    assert (await measure("graph_allowed_values", graph, type=kind, property="type",
                          values=["owns", "uses", "mentions", "depends_on"])).passed
    off = await measure("graph_allowed_values", graph, type=kind, property="type", values=["owns", "uses", "mentions"])
    assert off.value == 66 and {row["type"] for row in off.sample} == {"depends_on"} and len(off.sample) == 10
    with pytest.raises(CheckError, match=r"key 'type': no relationship type 'RELATE"):
        await measure("graph_allowed_values", graph, type=kind.replace("RELATES", "RELATE"), property="type",
                      values=["owns"])


async def test_a_seed_rule_on_a_misspelled_label_is_refused_not_passed(neo4j_graphs, clean_graph_data):
    graph = await neo4j_graphs.load(clean_graph_data)
    wrong = Neo4jGraph(graph.uri, names=GraphNames(graph.names.entities + "x", graph.names.relationships,
                                                   graph.names.documents))
    with pytest.raises(CheckError, match=r"key 'names.entities': no label 'Entity_\w+x' in the graph \(did you mean"):
        await measure("orphaned_relationships", wrong)


async def test_one_driver_per_store_for_the_run(neo4j_uri):
    graphs = OpenGraphs()
    store = Neo4jStore("graph", neo4j_uri)
    try:
        first = await graphs.graph(store)
        assert await graphs.graph(Neo4jStore("graph", neo4j_uri)) is first and first.is_open
    finally:
        graphs.close()
    assert not first.is_open
