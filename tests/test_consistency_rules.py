"""Rules as data, and rule files collected by pytest: one item per rule, one-line errors, GO / NO-GO."""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest

from pytest_prodready.checks.finding import plain
from pytest_prodready.checks.parity import compare
from pytest_prodready.checks.rules import RuleError, Threshold, make_rule, parse_rule, parse_threshold
from pytest_prodready.datasets import clean_graph, with_faults

from .sessions import assert_usage_error, output

DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize(
    ("text", "op", "limit"),
    [("== 0", "==", 0), ("=0", "==", 0), ("< 5", "<", 5), ("> 95 %", ">", 95), ("<= -1.5", "<=", -1.5)],
)
def test_thresholds_parse(text, op, limit):
    assert parse_threshold(text, "here") == Threshold(op, limit)


@pytest.mark.parametrize("text", ["5", 5, "<", "about 5", "=> 3"])
def test_a_bad_threshold_names_the_key(text):
    with pytest.raises(RuleError, match=r"^here: key 'threshold': expected a comparison"):
        parse_threshold(text, "here")


@pytest.mark.parametrize(
    ("threshold", "value", "shown"),
    [("== 0", 3, "3 > 0"), ("< 5", 7, "7 >= 5"), ("> 95", 93.126, "93.13 <= 95"), ("<= 2", 2.5, "2.5 > 2")],
)
def test_a_breach_reads_as_value_against_limit(threshold, value, shown):
    parsed = parse_threshold(threshold, "here")
    assert not parsed.holds(value)
    assert parsed.breach(value) == shown


def test_a_rule_named_after_its_check_gets_seed_001s_threshold():
    spec = parse_rule("missing_evidence", {}, "f")
    assert (spec.check, str(spec.threshold), spec.severity, spec.sample) == ("missing_evidence", "< 10", "fail", 10)
    assert str(parse_rule("validation_success_rate", {}, "f").threshold) == "> 95"


@pytest.mark.parametrize(
    ("name", "table", "error"),
    [
        ("orphaned_relationship", {}, "rule 'orphaned_relationship': key 'orphaned_relationship': unknown rule name, "
         "and no 'check' key says which check it runs (did you mean 'orphaned_relationships'?)"),
        ("tasks", {"check": "orphan"}, "rule 'tasks': key 'check': unknown check type 'orphan' (did you mean 'orphans'?)"),
        ("tasks", {"check": "nulls", "tabel": "t", "columns": "c"},
         "rule 'tasks': unknown key 'tabel' (did you mean 'table'?)"),
        ("tasks", {"check": "orphans", "child": "tasks.session_id"},
         "rule 'tasks': key 'parent' is required by check 'orphans'"),
        ("tasks", {"check": "orphans", "child": "session_id", "parent": "sessions.id"},
         "rule 'tasks': key 'child': 'session_id' does not match"),
        ("r", {"check": "range", "table": "t", "column": "c"}, "rule 'r': check 'range' needs one of the keys 'min', 'max'"),
        ("p", {"check": "pragmas", "expect": {"foreign_keys": 1}}, "rule 'p': key 'expect.foreign_keys': foreign_keys is "
         "set per connection"),
        ("missing_evidence", {"severity": "fatal"}, "rule 'missing_evidence': key 'severity': expected one of fail, warn"),
        ("missing_evidence", {"sample": -1}, "rule 'missing_evidence': key 'sample': expected an integer"),
    ],
)
def test_rule_errors_name_the_rule_and_the_key(name, table, error):
    with pytest.raises(RuleError) as failure:
        parse_rule(name, table, "file.toml")
    assert str(failure.value).startswith(f"file.toml {error}")
    assert "\n" not in str(failure.value)


def test_rules_built_in_code_may_check_connection_pragmas():
    assert make_rule("pragmas", {"expect": {"foreign_keys": True}}).params == {"expect": {"foreign_keys": True}}


def test_parity_names_each_type_off_and_treats_a_new_type_as_off():
    found = compare({"documents": 0, "entities": 100, "relations": 200}, {"documents": 4, "entities": 95,
                                                                           "relations": 180})
    assert found.value == 2
    assert found.note == "tolerance 5%: documents 0 -> 4 (new in target), relations 200 -> 180 (-10.0%)"


def test_figures_are_json_safe():
    assert plain({"b": b"\x01\xff", "n": float("nan"), "t": (1, 2), "o": object}) == {
        "b": "01ff", "n": "nan", "t": [1, 2], "o": str(object)}


def test_shipped_datasets_are_the_builders_output():
    clean = clean_graph()
    assert (DATA / "graph_clean.json").read_text() == clean.to_json()
    assert (DATA / "graph_faults.json").read_text() == with_faults(clean).to_json()


PROJECT = """
[tool.prodready.consistency.stores.graph]
sqlite = "graph.db"

[tool.prodready.consistency.rules.orphaned_relationships]

[tool.prodready.consistency.rules.missing_evidence]

[tool.prodready.consistency.rules.duplicate_semantic_ids]
threshold = "== 0"
severity = "warn"

[tool.prodready.consistency.rules.no_blank_evidence]
check = "nulls"
table = "relationships"
columns = ["evidence"]
blank = true
threshold = "< 10"

[tool.prodready.consistency.rules.graph_tables]
check = "tables"
expect = ["entities", "relationships", "documents"]
"""


@pytest.fixture
def project(pytester: pytest.Pytester, graph_db, faults_graph_data) -> pytest.Pytester:
    """A pytester folder holding the seeded-fault graph as graph.db and a pyproject with rules."""
    shutil.copy(graph_db(faults_graph_data), pytester.path / "graph.db")
    write_pyproject(pytester, PROJECT)
    return pytester


def write_pyproject(pytester: pytest.Pytester, text: str, ini: str = "") -> None:
    """The project's pyproject.toml, with the pytest-asyncio setting inner runs would warn about."""
    ini_table = f'[tool.pytest.ini_options]\nasyncio_default_fixture_loop_scope = "function"\n{ini}\n'
    pytester.makepyprojecttoml(ini_table + textwrap.dedent(text))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)


def report(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "reports" / "readiness.json").read_text())


def test_each_declared_rule_is_one_item(project):
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "pyproject.toml::orphaned_relationships",
        "pyproject.toml::missing_evidence",
        "pyproject.toml::duplicate_semantic_ids",
        "pyproject.toml::no_blank_evidence",
        "pyproject.toml::graph_tables",
    ])


def test_declared_rules_run_and_give_the_verdict(project):
    result = run(project, "-rA")
    result.assert_outcomes(passed=4, failed=1, warnings=1)
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*orphaned_relationships: 3 > 0 (threshold == 0; sample: id=301 source_id=1120 target_id=1 *",
        "*ConsistencyWarning: duplicate_semantic_ids: 4 > 0 (threshold == 0; sample: *",
        "READINESS: NO-GO*",
    ])
    assert "Traceback" not in result.stdout.str()
    cases = {case["category"]: case for case in report(project)["cases"]}
    assert cases["orphaned_relationships"]["outcome"] == "failed"
    assert cases["orphaned_relationships"]["message"].startswith("orphaned_relationships: 3 > 0 (threshold == 0;")
    assert cases["missing_evidence"]["figures"]["consistency"][0]["value"] == 7
    assert cases["no_blank_evidence"]["figures"]["consistency"][0]["value"] == 7
    assert cases["duplicate_semantic_ids"]["outcome"] == "warned"
    assert [w["nodeid"] for w in report(project)["verdict"]["warnings"]] == ["pyproject.toml::duplicate_semantic_ids"]


def test_a_prodready_toml_is_collected_where_pytest_looks(project):
    write_pyproject(project, "")
    checks = project.mkdir("checks")
    shutil.move(project.path / "graph.db", checks / "graph.db")
    (checks / "prodready.toml").write_text(PROJECT.replace("tool.prodready.consistency", "consistency"))
    result = run(project, "-q", "-k", "missing_evidence or graph_tables")
    result.assert_outcomes(passed=2, deselected=3)
    assert "READINESS: GO" in result.stdout.str()


def test_a_testpaths_run_still_collects_the_pyprojects_rules(project):
    write_pyproject(project, PROJECT, 'testpaths = ["tests"]\n')
    project.mkdir("tests")
    (project.path / "tests" / "test_app.py").write_text("def test_app():\n    pass\n")
    result = run(project, "--collect-only", "-q")
    result.stdout.fnmatch_lines(["tests/test_app.py::test_app", "pyproject.toml::orphaned_relationships"])
    assert run(project, "--collect-only", "-q", "tests").stdout.str().count("pyproject.toml::") == 0


@pytest.mark.parametrize(
    ("rules", "error"),
    [
        ("[tool.prodready.consistency.rules.orphaned_relationship]\n",
         "pyproject.toml [tool.prodready.consistency] rule 'orphaned_relationship': key 'orphaned_relationship': "
         "unknown rule name, and no 'check' key says which check it runs (did you mean 'orphaned_relationships'?)"),
        ('[tool.prodready.consistency.rules.tasks]\ncheck = "orphan"\n',
         "pyproject.toml [tool.prodready.consistency] rule 'tasks': key 'check': unknown check type 'orphan' "
         "(did you mean 'orphans'?)"),
        ('[tool.prodready.consistency.rules.missing_evidence]\nthreshhold = "< 3"\n',
         "pyproject.toml [tool.prodready.consistency] rule 'missing_evidence': unknown key 'threshhold' "
         "(did you mean 'threshold'?)"),
        ('[tool.prodready.consistency.rules.missing_evidence]\nstore = "grph"\n',
         "pyproject.toml [tool.prodready.consistency] rule 'missing_evidence': key 'store': unknown store 'grph' "
         "(did you mean 'graph'?)"),
        ('[tool.prodready.consistency.ruels.missing_evidence]\n',
         "pyproject.toml [tool.prodready.consistency]: unknown key 'ruels' (did you mean 'rules'?)"),
    ],
)
def test_a_rule_file_mistake_is_a_one_line_usage_error(pytester, rules, error):
    write_pyproject(pytester, '[tool.prodready.consistency.stores.graph]\nsqlite = "graph.db"\n' + rules)
    result = run(pytester)
    assert assert_usage_error(result).startswith(f"ERROR: {error}")
    assert "INTERNALERROR" not in output(result)


def test_a_corrupted_database_fails_integrity_check_with_sqlites_message_and_no_go(pytester):
    path = pytester.path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i} " + "x" * 60,) for i in range(45)])
    conn.commit()
    (page_size,), = conn.execute("PRAGMA page_size").fetchall()
    (root,), = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'notes'").fetchall()
    conn.close()
    with path.open("r+b") as handle:
        handle.seek((root - 1) * page_size + page_size // 2)
        handle.write(b"\xde\xad\xbe\xef" * 64)
    sqlite_says = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0].splitlines()[1]
    write_pyproject(pytester, 
        '[tool.prodready.consistency.stores.app]\nsqlite = "app.db"\n'
        "[tool.prodready.consistency.rules.integrity_check]\n[tool.prodready.consistency.rules.quick_check]\n"
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([f"*integrity_check: * > 0 (threshold == 0; SQLite: *{sqlite_says}*", "READINESS: NO-GO*"])
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output
    cases = {case["category"]: case for case in report(pytester)["cases"]}
    assert sqlite_says in cases["integrity_check"]["message"]


def test_an_unreachable_store_fails_its_rule_without_a_traceback(pytester):
    write_pyproject(pytester, 
        '[tool.prodready.consistency.stores.graph]\nneo4j = "bolt://127.0.0.1:9"\nconnection_timeout = 2\n'
        '[tool.prodready.consistency.rules.orphaned_relationships]\nstore = "graph"\n'
        '[tool.prodready.consistency.stores.other]\nneo4j = "${PRODREADY_UNSET_VARIABLE}"\n'
        '[tool.prodready.consistency.rules.missing_evidence]\nstore = "other"\n'
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*orphaned_relationships: cannot run: cannot connect to Neo4j at bolt://127.0.0.1:9*",
        "*missing_evidence: cannot run: store 'other': environment variable PRODREADY_UNSET_VARIABLE is not set*",
    ])
    assert "Traceback" not in result.stdout.str()


FIXTURE_CASES = """
import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.consistency(rule="relationships_have_entities")
async def test_relationships_have_entities(consistency):
    await consistency.assert_no_orphans("graph.db", child="relationships.source_id", parent="entities.id")


@pytest.mark.consistency(rule="graph_metrics")
async def test_graph_metrics(consistency):
    await consistency.assert_graph("graph.db", "missing_evidence", "duplicate_semantic_ids")
"""


def test_the_consistency_fixture_counts_in_the_verdict(project):
    write_pyproject(project, "")
    project.makepyfile(test_data=FIXTURE_CASES)
    result = run(project, "test_data.py")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: orphans: 2 > 0 (threshold == 0; sample: rowid=301 source_id=1120*"])
    cases = {case["category"]: case for case in report(project)["cases"]}
    assert [f["value"] for f in cases["graph_metrics"]["figures"]["consistency"]] == [7, 4]
    assert cases["relationships_have_entities"]["figures"]["consistency"][0]["sample"][0] == {
        "rowid": 301, "source_id": 1120}


@pytest.mark.asyncio
async def test_declared_rules_on_a_real_neo4j(pytester, neo4j_graphs, neo4j_uri, faults_graph_data, monkeypatch):
    names = (await neo4j_graphs.load(faults_graph_data)).names
    monkeypatch.setenv("PRODREADY_NEO4J_URI", neo4j_uri)
    write_pyproject(pytester, f"""
        [tool.prodready.consistency.stores.graph]
        neo4j = "${{PRODREADY_NEO4J_URI}}"
        entities = "{names.entities}"
        relationships = "{names.relationships}"
        documents = "{names.documents}"

        [tool.prodready.consistency.rules.orphaned_relationships]
        [tool.prodready.consistency.rules.inconsistent_confidence]
        [tool.prodready.consistency.rules.missing_evidence]
        [tool.prodready.consistency.rules.duplicate_semantic_ids]
        [tool.prodready.consistency.rules.validation_success_rate]
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*orphaned_relationships: 3 > 0 (threshold == 0; sample: id=301 *", "READINESS: NO-GO*"])
    values = {case["category"]: case["figures"]["consistency"][0]["value"] for case in report(pytester)["cases"]}
    assert values == {**faults_graph_data.expected, "validation_success_rate": pytest.approx(100 * 292 / 303)}
