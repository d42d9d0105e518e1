"""Load cases (locust, ``locustfiles/``) and the API readiness checks on the reference HTTP app."""
