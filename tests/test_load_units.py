"""Load tests' plain parts: limits, result parsing, the loopback rule, the locust command line, key files."""

from __future__ import annotations

import json
import os
import stat
from types import SimpleNamespace

import httpx
import pytest

from pytest_prodready.limits import ThresholdError, parse_duration
from pytest_prodready.load.agent_options import AgentOptions
from pytest_prodready.load.load_judgement import evaluate
from pytest_prodready.net.loopback import (
    ALLOW_OPTION,
    RemoteHostError,
    check_target,
    refuse_remote,
)
from pytest_prodready.load.readiness import (
    health_document_problems,
    problem_document_problems,
)
from pytest_prodready.load.results import (
    LoadResult,
    aggregate,
    read_result,
    read_timeline,
    stats_file,
    timeline_file,
)
from pytest_prodready.load.load_spec import check_marker
from pytest_prodready.load.load_spec import (
    DEFAULT_CAP_RPS,
    check,
    parse_load,
)
from pytest_prodready.load.locust_process import LoadPlan, locust_args
from pytest_prodready.markers import MarkerError
from pytest_prodready.reference.api_keys import (
    ApiKey,
    KeyFileError,
    read_key_file,
    write_key_file,
)
from pytest_prodready.reference.ratelimit import RateLimiter, TokenBucket, retry_after


def result(**fields) -> LoadResult:
    base = {"requests": 1950, "failures": 0, "rps": 97.5, "mean_ms": 20.0, "p50_ms": 10.0, "p95_ms": 41.0,
            "p99_ms": 60.0, "max_ms": 90.0, "elapsed_s": 20.0, "users": 100}
    return LoadResult(**{**base, **fields})


def entry(name: str, times: dict[int, int], failures: int = 0, start: float = 100.0, last: float = 120.0) -> dict:
    return {
        "name": name, "method": "GET", "num_requests": sum(times.values()), "num_none_requests": 0,
        "num_failures": failures, "total_response_time": float(sum(t * n for t, n in times.items())),
        "max_response_time": float(max(times)), "min_response_time": float(min(times)),
        "response_times": {str(t): n for t, n in times.items()}, "start_time": start, "last_request_timestamp": last,
    }


# limits
def test_marker_values_parse_with_aliases_and_defaults():
    spec = parse_load({"users": 100, "spawn_rate": 50, "duration": "1m30s", "max_error_ratio": 0, "p95_ms": 500}, "t")
    assert (spec.users, spec.spawn_rate, spec.duration_s) == (100, 50.0, 90)
    assert (spec.max_error_ratio, spec.p95_ms) == (0.0, 500.0)
    assert spec.request_cap == 90 * DEFAULT_CAP_RPS
    assert parse_load({"max_requests": 300}, "t").request_cap == 300
    assert parse_load({}, "t").max_error_ratio == 0.01


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"users": 0}, "users"),
        ({"p95_ms": -1}, "p95_ms"),
        ({"max_error_ratio": 1.5}, "max_error_ratio"),
        ({"duration": "fast"}, "duration"),
        ({"spawn_rate": True}, "spawn_rate"),
        ({"steady_state": "yes"}, "steady_state"),
        ({"p95": 10}, "'p95'"),
    ],
)
def test_bad_values_are_usage_errors_naming_the_key(raw, named):
    with pytest.raises(ThresholdError, match=named) as caught:
        parse_load(raw, "suite/test_x.py::test_load")
    assert str(caught.value).startswith("suite/test_x.py::test_load: ")


@pytest.mark.parametrize(("text", "seconds"), [(20, 20), ("20s", 20), ("2m", 120), ("1h1m1s", 3661), ("120", 120), (" 7 ", 7)])
def test_durations(text, seconds):
    assert parse_duration(text, "d") == seconds


@pytest.mark.parametrize("text", ["0", "", "²", "1.5", "-3", "20 s", "s"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ThresholdError, match="expected a duration"):
        parse_duration(text, "d")


def test_misses_are_worded_with_the_measured_value():
    spec = parse_load({"max_error_ratio": 0.01, "p95_ms": 200, "min_rps": 100, "users": 100}, "t")
    misses = check(spec, result(failures=199, p95_ms=231.4, rps=97.5, users=60))
    assert misses == [
        "only 60 of 100 users were running at once",
        "error ratio 10.2 % > 1 %",
        "p95 231 ms > 200 ms",
        "throughput 97.5 req/s < 100 req/s",
    ]
    assert check(spec, result(requests=0)) == ["no request completed"]
    assert check(spec, result(users=100, rps=150.0)) == []


def test_evaluation_message_and_figures():
    spec = parse_load({"max_error_ratio": 0.01, "p95_ms": 200}, "t")
    outcome = evaluate(spec, result(failures=199, p95_ms=231.0))
    assert outcome.message == "error ratio 10.2 % > 1 %; p95 231 ms > 200 ms (1,950 req, 97.5 req/s)"
    assert outcome.figures["limits"] == {"max_error_ratio": 0.01, "p95_ms": 200.0}
    assert outcome.figures["load"]["error_ratio"] == pytest.approx(199 / 1950, abs=1e-6)
    assert outcome.figures["load"]["plan"]["users"] == 10
    assert not evaluate(spec, result()).failures


# results
def test_summary_line():
    assert result().summary() == "1,950 req, 97.5 req/s, p95 41 ms, errors 0.0 %"


def test_aggregate_merges_endpoint_histograms():
    entries = [entry("/a", {10: 90, 100: 10}, failures=5), entry("/b", {20: 100}, start=105.0, last=110.0)]
    merged = aggregate(entries)
    assert (merged.requests, merged.failures) == (200, 5)
    assert merged.rps == pytest.approx(200 / 20)
    assert merged.mean_ms == pytest.approx((900 + 1000 + 2000) / 200)
    assert merged.p50_ms == 20.0 and merged.max_ms == 100.0
    assert 20.0 < merged.p99_ms <= 100.0
    assert [e["name"] for e in merged.endpoints] == ["/a", "/b"]
    assert merged.error_ratio == pytest.approx(0.025)


def test_read_result_with_agent_files(tmp_path):
    prefix = tmp_path / "locust"
    stats_file(prefix).write_text(json.dumps([entry("/a", {10: 4})]))
    rows = [{"t_s": 1, "users": 5, "rps": 2.0, "failures_per_s": 0, "p95_ms": 10}, {"event": "request cap", "t_s": 1.5}]
    timeline_file(prefix).write_text("\n".join(json.dumps(r) for r in rows) + '\n{"t_s": 2, "us')
    loaded = read_result(prefix)
    assert (loaded.requests, loaded.users, loaded.stopped_by, len(loaded.timeline)) == (4, 5, "request cap", 1)
    assert read_timeline(tmp_path / "absent.jsonl") == ([], "run time")


# the loopback rule
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80", "127.0.0.2:9"])
def test_loopback_targets_are_allowed(url):
    check_target(url)


def test_a_remote_target_is_refused_naming_host_and_option():
    with pytest.raises(RemoteHostError) as caught:
        check_target("http://10.0.0.1:8080")
    assert "'10.0.0.1'" in str(caught.value) and ALLOW_OPTION in str(caught.value)
    check_target("http://10.0.0.1:8080", allow_remote=True)  # only the check: nothing is sent


def test_the_connect_guard_refuses_remote_addresses_before_connecting():
    checked: set[str] = set()
    refuse_remote(("127.0.0.1", 80), checked)
    refuse_remote("/run/app.sock", checked)
    with pytest.raises(PermissionError, match="10.0.0.1"):
        refuse_remote(("10.0.0.1", 9), checked)
    assert checked == {"127.0.0.1"}


# the command line and the agent's settings
def test_locust_command_line(tmp_path):
    spec = parse_load({"users": 100, "spawn_rate": 50, "duration": "20s", "processes": 2, "steady_state": True}, "t")
    plan = LoadPlan(tmp_path / "f.py", "http://127.0.0.1:1", spec, tmp_path, env={"PRODREADY_API_KEY": "s3cret"})
    args = locust_args(plan)
    joined = " ".join(args)
    assert "--headless" in args and "-u 100 -r 50 --run-time 20s" in joined
    assert "--processes 2" in joined and "--reset-stats" in args and "--exit-code-on-error 0" in joined
    assert "s3cret" not in joined
    single = LoadPlan(tmp_path / "f.py", "http://127.0.0.1:1", parse_load({}, "t"), tmp_path)
    assert "--processes" not in locust_args(single)


def test_agent_options_travel_as_environment(tmp_path):
    options = AgentOptions(cap=301, processes=2, out_prefix=tmp_path / "x", deadline_s=55.0, allow_remote=False)
    back = AgentOptions.from_env(options.to_env())
    assert back == options
    assert (back.share(worker=True), back.share(worker=False)) == (151, 301)


# reference app building blocks
def test_key_file_is_private_and_others_readable_files_are_refused(tmp_path):
    path = write_key_file(tmp_path / "keys.json", [ApiKey("load", "s3cret", 10.0)])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key_file(path) == [ApiKey("load", "s3cret", 10.0)]
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        read_key_file(path)


def test_token_bucket_allows_a_burst_then_the_rate():
    bucket = TokenBucket(rate=2.0, capacity=2.0, now=0.0)
    assert [bucket.take(0.0), bucket.take(0.0)] == [0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.5)
    assert bucket.take(0.5) == 0.0
    assert retry_after(0.2) == "1"
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert [limiter.wait_s("k", 1.0, 1.0) > 0 for _ in range(2)] == [False, True]


# document checks
def response(status: int, body: object, content_type: str) -> httpx.Response:
    request = httpx.Request("GET", "http://127.0.0.1/x")
    headers = {"content-type": content_type}
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers, request=request)


def test_problem_documents():
    good = {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no such thing"}
    assert problem_document_problems("unknown", response(404, good, "application/problem+json")) == []
    plain = problem_document_problems("x", response(404, good, "application/json"))
    assert "content-type 'application/json'" in plain[0]
    wrong = problem_document_problems("x", response(404, {**good, "status": 500}, "application/problem+json"))
    assert wrong and "member 'status' is 500" in wrong[0]


def test_health_documents():
    dep = {"status": "healthy", "response_time_ms": 1.2}
    healthy = {"status": "healthy", "dependencies": {"db": dep}}
    assert health_document_problems(response(200, healthy, "application/json")) == []
    hidden = {"status": "healthy", "dependencies": {"db": {**dep, "status": "degraded"}}}
    assert "hides a 'degraded'" in health_document_problems(response(200, hidden, "application/json"))[0]
    untimed = {"status": "healthy", "dependencies": {"db": {"status": "healthy"}}}
    assert "no response_time_ms" in health_document_problems(response(200, untimed, "application/json"))[0]
    assert "no 'dependencies'" in health_document_problems(response(200, {"status": "healthy"}, "application/json"))[0]


def test_timeline_rates_come_from_the_counts_between_rows():
    from pytest_prodready.load.results import with_rates

    rows = with_rates([
        {"t_s": 1.0, "requests": 60, "failures": 0, "rps": 0.0},
        {"t_s": 2.0, "requests": 130, "failures": 5, "rps": 0.0},
        {"t_s": 4.0, "requests": 230, "failures": 5, "rps": 0.0},
    ])
    assert [(r["rps"], r["failures_per_s"]) for r in rows] == [(60.0, 0.0), (70.0, 5.0), (50.0, 0.0)]


def test_timeline_rates_stay_positive_across_a_statistics_reset():
    from pytest_prodready.load.results import with_rates

    # locust resets its counts once every user runs (seed 002's case): 2,000 became 250 one second later.
    rows = with_rates([
        {"t_s": 3.0, "requests": 2000, "failures": 4},
        {"t_s": 4.0, "requests": 250, "failures": 0},
        {"t_s": 5.0, "requests": 510, "failures": 1},
    ])
    assert [(r["rps"], r["failures_per_s"]) for r in rows] == [(666.67, 1.33), (250.0, 0.0), (260.0, 1.0)]


def load_item(fixtures: tuple[str, ...], *args, **kwargs) -> SimpleNamespace:
    marker = SimpleNamespace(args=args, kwargs=kwargs)
    return SimpleNamespace(nodeid="t.py::t", fixturenames=fixtures, get_closest_marker=lambda name: marker if name == "load" else None)


@pytest.mark.parametrize(
    ("item", "error", "needle"),
    [
        (load_item(("load_runner",), 10), MarkerError, "keyword arguments only"),
        (load_item(("latency",), users=4), MarkerError, "'load_runner' fixture"),
        (load_item(("load_runner",), users=0), ThresholdError, "users"),
    ],
)
def test_a_misused_load_marker_is_a_marker_error_and_a_bad_value_a_threshold_error(item, error, needle):
    with pytest.raises(error) as caught:
        check_marker(item)
    assert str(caught.value).startswith("t.py::t") and needle in str(caught.value)


def test_a_well_used_load_marker_passes():
    check_marker(load_item(("load_runner",), users=4, duration="5s"))
    check_marker(load_item((), name="only filed"))
