"""Project-wide pytest set-up: the plugin's own tests drive real sessions with pytester."""

pytest_plugins = ["pytester"]
