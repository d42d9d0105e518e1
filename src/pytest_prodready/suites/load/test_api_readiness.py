"""Seed 002's API readiness checks against the reference service's HTTP API."""

from __future__ import annotations

import pytest

from pytest_prodready.reference.app import EXAMPLE_ROUTES


@pytest.fixture
def checks(api_readiness, reference_app):
    # reference_app is this run's own server on a scratch database: the write probes may go there
    return api_readiness(reference_app.base_url, reference_app.api_key, EXAMPLE_ROUTES, allow_writes=True)


@pytest.mark.api_readiness(check="authentication")
def test_every_route_but_health_needs_a_valid_key(checks):
    checks.assert_auth()


@pytest.mark.api_readiness(check="security_headers")
def test_security_headers_on_every_response(checks):
    checks.assert_security_headers()


@pytest.mark.api_readiness(check="error_format")
def test_errors_are_rfc7807_problem_documents(checks):
    checks.assert_problem_json()


@pytest.mark.api_readiness(check="health")
def test_health_reports_each_dependency(checks):
    checks.assert_health()


@pytest.mark.api_readiness(check="rate_limiting")
def test_each_key_is_rate_limited(checks, reference_app):
    checks.assert_rate_limited("/sessions/example-session", reference_app.limited_api_key, requests=20)
