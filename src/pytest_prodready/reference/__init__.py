"""The embedded reference target: Abathur's memory-management service on SQLite.

A standalone service (it shares only the contract types of
``pytest_prodready.target`` with the plugin) used as the default system under
test and as the worked example of what a production-ready target looks like.
"""

from .documents import BackgroundSync, chunk_markdown, extract_title
from .embedder import DIMENSIONS, EMBEDDING_MODEL, HashingEmbedder
from .errors import DuplicateMemoryError, InvalidNamespaceError, ServiceClosedError, UnknownMemoryError
from .factory import CORPUS_DIRECTORY, DATABASE_NAME, create_target, open_service
from .hot_queries import hot_queries
from .schema import EXPECTED_INDEXES, EXPECTED_TABLES, PRAGMA_READBACK, PRAGMAS, apply_pragmas, apply_schema, schema_sql
from .search import KEYWORD_WEIGHT, SEMANTIC_WEIGHT
from .seed import DEFAULT_VOLUME, EXAMPLE_SESSION_ID
from .service import ReferenceService
from .tasks import SYSTEM_TASK_ID

__all__ = [
    "BackgroundSync",
    "CORPUS_DIRECTORY",
    "DATABASE_NAME",
    "DEFAULT_VOLUME",
    "DIMENSIONS",
    "DuplicateMemoryError",
    "EMBEDDING_MODEL",
    "EXAMPLE_SESSION_ID",
    "EXPECTED_INDEXES",
    "EXPECTED_TABLES",
    "HashingEmbedder",
    "InvalidNamespaceError",
    "KEYWORD_WEIGHT",
    "PRAGMAS",
    "PRAGMA_READBACK",
    "ReferenceService",
    "SEMANTIC_WEIGHT",
    "SYSTEM_TASK_ID",
    "ServiceClosedError",
    "UnknownMemoryError",
    "apply_pragmas",
    "apply_schema",
    "chunk_markdown",
    "create_target",
    "extract_title",
    "hot_queries",
    "open_service",
    "schema_sql",
]
