"""Reference graph datasets with known faults, and loaders for SQLite and Neo4j.

The consistency rules are tested, and benchmarked, against these: a clean
graph, and the same graph with seeded faults whose numbers the rules must
report exactly on both stores.
"""

from .knowledge_graph import FAULTS, GraphData, clean_graph, with_faults

__all__ = ["FAULTS", "GraphData", "clean_graph", "with_faults"]
