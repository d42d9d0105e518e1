"""Load tests: locust in a child process against a loopback HTTP service, judged on its figures.

Nothing here imports locust: the load generator runs as
``python -m pytest_prodready.load.agent`` in its own process group.
"""
