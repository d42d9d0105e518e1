"""Three read-only canary cases on the reference service's HTTP API."""
