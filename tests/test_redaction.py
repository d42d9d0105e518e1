"""Secrets never reach a report: DSN passwords, secret-named key=value pairs and mapping keys."""

from __future__ import annotations

import random
import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_prodready.report.redaction import _SHAPE_WORD, MASK, LazyPattern, Redactor, may_hold_shape, redact

redact_mapping = Redactor().value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bolt://neo4j:s3cret@host:7687", "bolt://neo4j:***@host:7687"),
        ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
        ("neo4j+s://neo4j:p%40ss@db.example.com:7687/x", "neo4j+s://neo4j:***@db.example.com:7687/x"),
        ("connect failed: bolt://admin:hunter2@10.0.0.5:7687 refused", "connect failed: bolt://admin:***@10.0.0.5:7687 refused"),
        ("api_key=abc123", "api_key=***"),
        ("API-KEY=abc123", "API-KEY=***"),
        ("token: xyz", "token: ***"),
        ("GET /x?user=bob&password=hunter2&page=2", "GET /x?user=bob&password=***&page=2"),
        ("NEO4J_PASSWORD=s3cret other=1", "NEO4J_PASSWORD=*** other=1"),
        ("client_secret = abc; next", "client_secret = ***; next"),
        ('DB_PASSWORD="two words"', 'DB_PASSWORD="***"'),
        ("{'password': 'hunter2', 'user': 'bob'}", "{'password': '***', 'user': 'bob'}"),
        ('{"api_key": "k-1", "n": 2}', '{"api_key": "***", "n": 2}'),
    ],
)
def test_secrets_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "pytest_prodready.reference:create_target",
        "bolt://localhost:7687",
        "http://user@host/path",
        "https://example.com/a?b=c",
        "sqlite:///tmp/app.db",
        "p95 80.0 ms > 50 ms (n=20; p50 80.0, p95 80.0, p99 80.0, max 80.0)",
        "smoke / connectivity: only 4 of 5 required cases ran",
        "assert 'token' in headers",
        "",
    ],
)
def test_non_secrets_are_untouched(text):
    assert redact(text) == text


@given(st.text(alphabet=st.characters(blacklist_characters=":="), max_size=80))
def test_text_without_separators_is_untouched(text):
    """Both patterns need a ':' or '='; anything else passes through byte for byte."""
    assert redact(text) == text


@given(st.text(max_size=80))
def test_redaction_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once


@given(st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True))
def test_password_of_a_dsn_never_survives(password):
    redacted = redact(f"bolt://neo4j:{password}@graph.internal:7687")
    assert redacted == "bolt://neo4j:***@graph.internal:7687"


def test_mapping_masks_secret_named_keys_and_redacts_strings():
    clean = redact_mapping(
        {
            "password": "hunter2",
            "neo4j_auth": "neo4j/pw",
            "API_KEY": 12345,
            "dsn": "bolt://neo4j:pw@h:7687",
            "nested": {"client_secret": "s", "port": 7687},
            "target": "mine:build",
            "profile": "production",
            "sqlite": None,
        }
    )
    assert clean == {
        "password": MASK,
        "neo4j_auth": MASK,
        "API_KEY": MASK,
        "dsn": "bolt://neo4j:***@h:7687",
        "nested": {"client_secret": MASK, "port": 7687},
        "target": "mine:build",
        "profile": "production",
        "sqlite": None,
    }


def test_mapping_keeps_empty_secret_values_visible():
    """An unset secret is shown as unset, not as a mask suggesting one exists."""
    assert redact_mapping({"token": None, "password": ""}) == {"token": None, "password": ""}


def test_mapping_does_not_mutate_input():
    original = {"password": "x", "nested": {"token": "y"}}
    redact_mapping(original)
    assert original == {"password": "x", "nested": {"token": "y"}}


def test_known_secret_values_from_the_environment_are_masked_anywhere():
    redactor = Redactor.from_environment({"NEO4J_PASSWORD": "correct-horse", "HOME": "/root", "API_TOKEN": "abc"})
    assert redactor.text("login as neo4j with correct-horse failed") == f"login as neo4j with {MASK} failed"
    assert redactor.text("HOME is /root") == "HOME is /root", "only secret-named variables are secrets"
    assert redactor.text("abc is too short to be masked") == "abc is too short to be masked"
    assert redactor.value({"rows": [{"note": "correct-horse"}], "n": 3}) == {"rows": [{"note": MASK}], "n": 3}


@pytest.mark.parametrize("name", ["passed", "passes", "bypass_cache", "author", "compass"])
def test_words_that_merely_contain_pass_or_auth_are_not_secrets(name):
    assert Redactor().value({name: "visible"}) == {name: "visible"}
    assert redact(f"{name}: visible") == f"{name}: visible"


@pytest.mark.parametrize("name", ["DB_PASS", "neo4j_auth", "apiKey", "PGPASSWORD", "client-secret", "pwd"])
def test_names_holding_a_secret_word_are_secrets(name):
    assert Redactor().value({name: "hidden"}) == {name: MASK}


# --- issue 13 item 4 and issue 19: no leak, no false positive ------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bolt://neo4j:pa/ss@host:7687", "bolt://neo4j:***@host:7687"),
        ("https://bot:to/k/en@github.com/o/r.git", "https://bot:***@github.com/o/r.git"),
        ("cannot connect to Neo4j at neo4j:s3cret@db.internal:7687: refused",
         "cannot connect to Neo4j at neo4j:***@db.internal:7687: refused"),
    ],
)
def test_credentials_with_a_slash_or_without_a_scheme_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "api readiness / auth: 1 failed",
        "api readiness / auth: 2 errors, only 3 of 5 required cases ran",
        "smoke / token: 1 not run (skipped)",
        "http://127.0.0.1:8080/health",
        "user@example.com",
        "git@github.com:o/r.git",
        "tests/test_api.py::test_auth[route:/orders@v2]",
    ],
)
def test_counts_and_plain_addresses_are_not_masked(text):
    assert Redactor.from_environment({}).text(text) == text


def test_the_working_directory_is_not_a_secret(tmp_path):
    environ = {"PWD": str(tmp_path), "OLDPWD": "/home/ci", "DB_PASSWORD": "hunter2-pw"}
    redactor = Redactor.from_environment(environ)
    assert redactor.text(f"source = '{tmp_path}/app.db'") == f"source = '{tmp_path}/app.db'"
    assert redactor.text("cd /home/ci; hunter2-pw") == f"cd /home/ci; {MASK}"


def test_a_truncated_repr_leaves_no_fragment_of_a_known_secret():
    secret = "sk-live-key-AAAA-1111"
    redactor = Redactor([secret])
    assert redactor.text("'...ey-AAAA-1111'") == f"'...{MASK}'"
    assert redactor.text("'sk-live-k...'") == f"'{MASK}...'"
    assert redactor.text("- ...key-AAAA-1111\n+ x") == f"- ...{MASK}\n+ x"
    assert redactor.text("a...b") == "a...b"


@pytest.mark.parametrize(
    "text, secret",
    [
        ("GET /v1 with Bearer abc.DEF-123 sent", "abc.DEF-123"),
        ("header: basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
        ("connect bolt://neo4j:s3cr3tvalue@db:7687 failed", "s3cr3tvalue"),
        ("dsn neo4j:s3cr3tvalue@db:7687", "s3cr3tvalue"),
    ],
)
def test_each_shape_is_masked_with_no_other_secret_word_in_the_text(text, secret):
    """redact() skips a pattern whose word or '@' is absent: each shape on its own still gets masked."""
    assert secret not in redact(text) and MASK in redact(text)


def _shape_texts(count: int) -> list[str]:
    """Texts around every word a credential's shape needs, cased every way, cut and joined at random."""
    rng = random.Random(14)
    words = ["password", "passwd", "passphrase", "pass", "pwd", "auth", "secret", "token", "api_key", "api-key", "apikey",
             "api", "credential", "bearer", "basic", "passed", "author", "tokens", "Bearer x", "DB_PASS=1", "key", "ſecret",
             "paſs", "PAſſWORD", "İ", "K"]
    filler = ["", " ", "_", "-", "a", "x1", "test_many.py::test_", "=", ":", "\n", "é", "No log output captured."]
    texts = []
    for _ in range(count):
        parts = [rng.choice(words + filler) for _ in range(rng.randint(1, 4))]
        text = "".join(parts)
        if rng.random() < 0.5:
            text = "".join(c.upper() if rng.random() < 0.5 else c for c in text)
        cut = rng.randint(0, len(text))
        texts.append(text[cut:] if rng.random() < 0.2 else text)
    return texts


def test_the_quick_shape_test_answers_as_the_regex_does():
    """``may_hold_shape`` is only a faster route to the regex's answer (ASCII texts skip the regex)."""
    texts = _shape_texts(20000)
    wrong = [t for t in texts if may_hold_shape(t) != (_SHAPE_WORD.search(t) is not None)]
    assert wrong == []
    assert sum(map(may_hold_shape, texts)) > 1000 and sum(t.isascii() and not may_hold_shape(t) for t in texts) > 1000


def test_a_lazy_pattern_compiles_on_first_use_and_answers_as_the_pattern():
    lazy, eager = LazyPattern(r"(?P<word>to+ken)", re.IGNORECASE), re.compile(r"(?P<word>to+ken)", re.IGNORECASE)
    assert not lazy.compiled
    assert lazy.search("a TOOKEN b")["word"] == eager.search("a TOOKEN b")["word"] == "TOOKEN"
    assert lazy.compiled
    assert lazy.sub("x", "token tooken") == eager.sub("x", "token tooken") == "x x"
    assert lazy.fullmatch("token") is not None and lazy.match("no") is None


LAZY_NAMES = ("_URL_CREDENTIALS", "_NETLOC_CREDENTIALS", "_KEY_VALUE", "_BEARER", "_SHAPE_WORD")
PLAIN_TEXTS = """
import os, sys
from pytest_prodready.report import redaction
redactor = redaction.Redactor.from_environment(os.environ)
for text in ("tests/test_a.py::test_x[1]", "No log output captured.", "smoke / connectivity", ""):
    assert redactor.text(text) == text
print(*[name for name in sys.argv[1:] if getattr(redaction, name).compiled])
print(redactor.text("bolt://neo4j:hunter22@db:7687 Authorization: Bearer abc.def password=x"))
print(*[name for name in sys.argv[1:] if getattr(redaction, name).compiled])
"""


def test_plain_texts_compile_no_credential_pattern():
    """A readiness run's ids and empty logs never need the credential patterns: their compiling is saved."""
    done = subprocess.run([sys.executable, "-c", PLAIN_TEXTS, *LAZY_NAMES], capture_output=True, text=True, check=True)
    before, masked, after = done.stdout.splitlines()
    assert before == "", done.stdout
    assert masked == "bolt://neo4j:***@db:7687 Authorization: Bearer *** password=***", masked
    assert after.split() == ["_URL_CREDENTIALS", "_NETLOC_CREDENTIALS", "_KEY_VALUE", "_BEARER", "_SHAPE_WORD"]
