"""Which smoke case must catch each defect, and the words its failure must use.

A mutant counts as killed only when one of its ``kills`` cases failed with a
message containing the phrase: a crash elsewhere, or the right case failing
for another reason, does not count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .variants import write_renamed_ddl

DEFECTS = "tests.mutants.defects"
VARIANTS = "tests.mutants.variants"


@dataclass(frozen=True)
class Mutant:
    name: str
    defect: str
    kills: tuple[tuple[str, str], ...]  # (case name, phrase its failure message must contain)

    @property
    def target(self) -> str:
        return f"{DEFECTS}:{self.name}"


@dataclass(frozen=True)
class Variant:
    name: str
    difference: str
    config: str = ""  # extra [tool.prodready] TOML for its project
    prepare: Callable[[Path], object] | None = field(default=None, compare=False)

    @property
    def target(self) -> str:
        return f"{VARIANTS}:{self.name}"


MUTANTS: tuple[Mutant, ...] = (
    Mutant("lost_state_update", "concurrent read-modify-write of session state loses updates",
           (("test_concurrent_session_update_conflict_resolved", "lost update"),)),
    Mutant("search_returns_superseded", "an update never supersedes the old version: search returns v1 and v2",
           (("test_search_memories_by_namespace", "current version of each key only"),)),
    Mutant("namespace_full_scan", "namespace query as a full scan plus a temp B-tree sort",
           (("test_index_usage_verified_by_explain_query_plan", "SCAN m"),)),
    Mutant("sync_commits_before_embedding", "document row committed before its embedding; retry says 'already exists'",
           (("test_document_sync_detects_file_changes", "a failed sync left the document stuck"),)),
    Mutant("version_drops_created_by", "a new version drops created_by and metadata",
           (("test_update_memory_entry_creates_version_2", "new version dropped fields"),)),
    Mutant("foreign_keys_first_connection_only", "foreign keys on the first connection only; the writer has them off",
           (("test_foreign_key_violation_for_unknown_session_handled", "orphan task"),
            ("test_database_connection_successful", "writes with foreign_keys OFF"))),
    Mutant("prefix_search_by_like", "prefix search by LIKE: sibling namespace and wildcards leak in",
           (("test_namespace_hierarchy_access", "sibling namespace"),)),
    Mutant("wrong_version_increment", "next version is 'live versions + 1': reused after consolidation",
           (("test_memory_consolidation_resolves_conflicts", "wrong version after consolidation"),)),
    Mutant("audit_missing_for_update", "updates write no audit row",
           (("test_query_audit_log_for_memory_operations", "audit row missing for: update"),
            ("test_audit_trail_captures_all_operations", "audit row missing for"))),
    Mutant("terminate_not_persisted", "terminate answers 'terminated' without writing it",
           (("test_terminate_session", "termination not persisted"),)),
    Mutant("search_ignores_limit", "search_memories ignores its limit",
           (("test_search_memories_by_namespace", "search ignored its limit"),)),
    Mutant("consolidation_keeps_both", "consolidation counts conflicts and retires nothing",
           (("test_memory_consolidation_resolves_conflicts", "consolidation left both versions live"),)),
    Mutant("no_busy_timeout", "connections without busy_timeout",
           (("test_database_connection_successful", "busy_timeout 0"),)),
    Mutant("journal_mode_delete", "journal mode DELETE where WAL is required",
           (("test_database_connection_successful", "PRAGMA journal_mode is 'delete'"),)),
    Mutant("invalid_json_stored", "JSON columns without CHECK; NaN stored as event text",
           (("test_invalid_json_in_session_events_rejected", "not JSON, yet accepted and stored: NaN"),)),
    Mutant("unique_key_dropped", "a migration dropped UNIQUE (namespace, key, version); duplicates stored",
           (("test_duplicate_session_id_raises_error", "duplicate business key"),
            ("test_all_indexes_created", "UNIQUE(namespace, key, version) constraint"))),
    Mutant("index_wrong_columns", "versioned-lookup indexes created on (namespace, key) only",
           (("test_all_indexes_created", "columns (namespace, key) instead of (namespace, key, is_deleted, version DESC)"),)),
    Mutant("history_hides_superseded", "history leaves out superseded versions",
           (("test_memory_consolidation_resolves_conflicts", "history must keep every version"),)),
    Mutant("get_memory_returns_oldest", "get_memory returns the first version",
           (("test_retrieve_memory_current_version", "not the current version"),)),
    Mutant("append_overwrites_events", "append_event replaces the event log",
           (("test_append_event_to_session", "events lost or reordered"),)),
    Mutant("duplicate_session_replaces", "create_session as INSERT OR REPLACE",
           (("test_duplicate_session_id_raises_error", "duplicate session id"),)),
    Mutant("memory_type_unchecked", "memory_type neither validated nor constrained",
           (("test_invalid_memory_type_raises_error", "invalid memory type 'hallucinated' accepted"),)),
    Mutant("state_replaced_not_merged", "state changes replace the state instead of merging",
           (("test_update_session_state", "state changes not merged"),)),
    Mutant("background_sync_reindexes_all", "the poller re-indexes every file on every poll",
           (("test_background_sync_processes_file", "re-indexed unchanged files"),)),
)

VARIANTS_GO: tuple[Variant, ...] = (
    Variant("second_resolution_timestamps", "whole-second timestamps; a version column is the concurrency token"),
    Variant("version_column_concurrency", "optimistic concurrency on sessions.version instead of a timestamp"),
    Variant("history_newest_first", "get_memory_history newest first (the protocol allows either order)"),
    Variant("renamed_indexes", "every index under another name, same definitions; expected schema from its DDL",
            config=f'[tool.prodready.schema]\nddl = "renamed_indexes.sql"\n', prepare=write_renamed_ddl),
    Variant("refuse_at_encode_time", "events as objects only, refused at encode time, JSON text refused outright"),
    Variant("virtual_table_for_vectors", "chunk vectors in an FTS5 virtual table"),
    Variant("connection_per_write", "a fresh connection (with the production pragmas) for every write"),
)
