"""The reference service's HTTP face, in process: auth, limits, headers, problem+json, health, fault knobs.

``service`` (a fresh reference service) comes from this folder's conftest.
"""

from __future__ import annotations

import httpx
import pytest

from pytest_prodready.reference import ReferenceService
from pytest_prodready.reference.api_keys import ApiKey
from pytest_prodready.reference.app import create_app
from pytest_prodready.reference.middleware import SECURITY_HEADERS

KEY = {"X-API-Key": "s3cret"}

pytestmark = pytest.mark.asyncio


def client_for(service: ReferenceService, **options) -> httpx.AsyncClient:
    keys = [ApiKey("load", "s3cret", 10_000.0), ApiKey("limited", "slow", 2.0)]
    app = create_app(service, keys, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    return body


async def test_routes_need_a_key_and_health_does_not(service):
    async with client_for(service) as client:
        assert_problem(await client.get("/sessions/example-session"), 401)
        assert_problem(await client.get("/sessions/example-session", headers={"X-API-Key": "guess"}), 401)
        assert (await client.get("/sessions/example-session", headers=KEY)).json()["id"] == "example-session"
        bearer = {"Authorization": "Bearer s3cret"}
        assert (await client.get("/sessions/example-session", headers=bearer)).status_code == 200
        health = await client.get("/health")
    assert health.status_code == 200
    report = health.json()
    dependencies = report["dependencies"]
    assert set(dependencies) == {"database", "database_writer", "search_index", "disk"}
    assert all(d["response_time_ms"] >= 0 for d in dependencies.values())
    # no document indexed yet: search is degraded, and the service is as healthy as its worst dependency
    assert (dependencies["search_index"]["status"], dependencies["search_index"]["documents"]) == ("degraded", 0)
    assert (dependencies["database"]["status"], report["status"]) == ("healthy", "degraded")


async def test_every_response_carries_the_security_headers(service, monkeypatch):
    async def broken(session_id: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "get_session", broken)
    async with client_for(service) as client:
        responses = [
            await client.get("/health"),
            await client.get("/memory", headers=KEY),
            await client.get("/nowhere", headers=KEY),
            await client.get("/sessions/x"),
            await client.get("/sessions/x", headers=KEY),
        ]
    assert [r.status_code for r in responses] == [200, 200, 404, 401, 500]
    assert_problem(responses[-1], 500)
    for response in responses:
        assert {name: response.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


async def test_errors_are_problem_documents(service):
    async with client_for(service) as client:
        create = {"id": "s1", "app_name": "a", "user_id": "u"}
        assert (await client.post("/sessions", json=create, headers=KEY)).status_code == 201
        assert assert_problem(await client.post("/sessions", json=create, headers=KEY), 409)["type"].endswith(
            "duplicate-session"
        )
        assert_problem(await client.post("/sessions", content=b"{nope", headers=KEY), 400)
        assert_problem(await client.post("/sessions", json={"app_name": "a"}, headers=KEY), 422)
        assert_problem(await client.delete("/sessions/s1", headers=KEY), 405)
        assert_problem(await client.get("/memory/user:x/none", headers=KEY), 404)
        assert_problem(await client.get("/search", headers=KEY), 422)


async def test_memory_and_search_round_trip(service):
    async with client_for(service) as client:
        url = "/memory/user:alice:notes/pref"
        created = await client.post(url, json={"value": {"theme": "dark"}}, headers=KEY)
        assert created.status_code == 201 and created.json()["created_by"] == "load"
        updated = await client.put(url, json={"value": {"theme": "light"}}, headers=KEY)
        assert updated.json()["version"] == 2
        assert (await client.get(url, headers=KEY)).json()["value"] == {"theme": "light"}
        listed = await client.get("/memory", params={"prefix": "user:alice"}, headers=KEY)
        assert listed.json()["count"] == 1
        found = await client.get("/search", params={"q": "memory", "limit": 3}, headers=KEY)
        assert found.status_code == 200 and found.json()["mode"] == "hybrid"


async def test_each_key_has_its_own_rate_limit(service):
    async with client_for(service) as client:
        slow = {"X-API-Key": "slow"}
        statuses = [(await client.get("/sessions/example-session", headers=slow)).status_code for _ in range(4)]
        limited = await client.get("/sessions/example-session", headers=slow)
        fast = await client.get("/sessions/example-session", headers=KEY)
    assert statuses[:2] == [200, 200] and 429 in statuses
    assert_problem(limited, 429)
    assert int(limited.headers["retry-after"]) >= 1
    assert fast.status_code == 200


async def test_fault_knob_fails_an_exact_share_and_spares_health(service):
    async with client_for(service, fault_ratio=0.1) as client:
        statuses = [(await client.get("/sessions/example-session", headers=KEY)).status_code for _ in range(50)]
        health = await client.get("/health")
    assert statuses.count(500) == 5
    assert health.status_code == 200
