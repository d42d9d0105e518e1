"""The readiness suites shipped with the plugin: run one with ``pytest --pyargs pytest_prodready.suites.smoke``."""
