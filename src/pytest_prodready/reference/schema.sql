-- Abathur memory-management schema (milestones 1-3), reference layout.
-- Memory tables come first because the core tables reference sessions.

-- sessions: one conversation thread, its events and its ephemeral state.
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    app_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    project_id TEXT,
    status TEXT NOT NULL DEFAULT 'created',
    events TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL DEFAULT '{}',
    metadata TEXT DEFAULT '{}',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    terminated_at TIMESTAMP,
    archived_at TIMESTAMP,
    CHECK (status IN ('created', 'active', 'paused', 'terminated', 'archived')),
    CHECK (json_valid(events)),
    CHECK (json_valid(state)),
    CHECK (json_valid(metadata))
);

-- memory_entries: versioned long-term memories under hierarchical namespaces.
CREATE TABLE IF NOT EXISTS memory_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    memory_type TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    is_deleted BOOLEAN NOT NULL DEFAULT 0,
    metadata TEXT DEFAULT '{}',
    created_by TEXT,
    updated_by TEXT,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (memory_type IN ('semantic', 'episodic', 'procedural')),
    CHECK (json_valid(value)),
    CHECK (json_valid(metadata)),
    CHECK (version > 0),
    UNIQUE (namespace, key, version)
);

-- document_index: markdown files on disk and the state of their embeddings.
CREATE TABLE IF NOT EXISTS document_index (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    document_type TEXT,
    content_hash TEXT NOT NULL,
    chunk_count INTEGER DEFAULT 1,
    embedding_model TEXT,
    embedding_blob BLOB,
    metadata TEXT DEFAULT '{}',
    last_synced_at TIMESTAMP,
    sync_status TEXT DEFAULT 'pending',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK (sync_status IN ('pending', 'synced', 'failed', 'stale')),
    CHECK (json_valid(metadata))
);

-- tasks: units of work, optionally tied to the session that asked for them.
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    prompt TEXT NOT NULL,
    agent_type TEXT NOT NULL DEFAULT 'general',
    priority INTEGER NOT NULL DEFAULT 5,
    status TEXT NOT NULL,
    input_data TEXT NOT NULL,
    result_data TEXT,
    error_message TEXT,
    retry_count INTEGER DEFAULT 0,
    max_retries INTEGER DEFAULT 3,
    max_execution_timeout_seconds INTEGER DEFAULT 3600,
    submitted_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    completed_at TIMESTAMP,
    last_updated_at TIMESTAMP NOT NULL,
    created_by TEXT,
    parent_task_id TEXT,
    dependencies TEXT,
    session_id TEXT,
    FOREIGN KEY (parent_task_id) REFERENCES tasks(id),
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE SET NULL
);

-- agents: spawned workers, linked to their task and session.
CREATE TABLE IF NOT EXISTS agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    specialization TEXT NOT NULL,
    task_id TEXT NOT NULL,
    state TEXT NOT NULL,
    model TEXT NOT NULL,
    spawned_at TIMESTAMP NOT NULL,
    terminated_at TIMESTAMP,
    resource_usage TEXT,
    session_id TEXT,
    FOREIGN KEY (task_id) REFERENCES tasks(id),
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE SET NULL
);

-- state: legacy per-task key/value store, kept for compatibility.
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (task_id, key),
    FOREIGN KEY (task_id) REFERENCES tasks(id)
);

-- audit: every action, with extra columns for memory operations.
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP NOT NULL,
    agent_id TEXT,
    task_id TEXT NOT NULL,
    action_type TEXT NOT NULL,
    action_data TEXT,
    result TEXT,
    memory_operation_type TEXT,
    memory_namespace TEXT,
    memory_entry_id INTEGER,
    FOREIGN KEY (agent_id) REFERENCES agents(id),
    FOREIGN KEY (task_id) REFERENCES tasks(id),
    FOREIGN KEY (memory_entry_id) REFERENCES memory_entries(id) ON DELETE SET NULL
);

-- metrics: non-negative operational measurements.
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP NOT NULL,
    metric_name TEXT NOT NULL,
    metric_value REAL NOT NULL,
    labels TEXT,
    CHECK (metric_value >= 0)
);

-- checkpoints: loop iteration snapshots of a task.
CREATE TABLE IF NOT EXISTS checkpoints (
    task_id TEXT NOT NULL,
    iteration INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    session_id TEXT,
    PRIMARY KEY (task_id, iteration),
    FOREIGN KEY (task_id) REFERENCES tasks(id),
    FOREIGN KEY (session_id) REFERENCES sessions(id) ON DELETE SET NULL
);

-- document_embeddings: one row per chunk of an indexed document.
CREATE TABLE IF NOT EXISTS document_embeddings (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES document_index(id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    content TEXT NOT NULL,
    embedding_model TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    UNIQUE (document_id, chunk_index)
);

-- document_embeddings_data: the chunk vector, float32 little-endian.
CREATE TABLE IF NOT EXISTS document_embeddings_data (
    embedding_id INTEGER PRIMARY KEY REFERENCES document_embeddings(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
);

-- sessions
CREATE UNIQUE INDEX IF NOT EXISTS idx_sessions_pk ON sessions(id);
CREATE INDEX IF NOT EXISTS idx_sessions_status_updated
    ON sessions(status, last_update_time DESC) WHERE status IN ('active', 'paused');
CREATE INDEX IF NOT EXISTS idx_sessions_user_created ON sessions(user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS idx_sessions_project
    ON sessions(project_id, created_at DESC) WHERE project_id IS NOT NULL;

-- memory_entries
CREATE UNIQUE INDEX IF NOT EXISTS idx_memory_entries_pk ON memory_entries(id);
CREATE INDEX IF NOT EXISTS idx_memory_namespace_key_version
    ON memory_entries(namespace, key, is_deleted, version DESC);
CREATE INDEX IF NOT EXISTS idx_memory_type_updated
    ON memory_entries(memory_type, updated_at DESC) WHERE is_deleted = 0;
CREATE INDEX IF NOT EXISTS idx_memory_namespace_prefix
    ON memory_entries(namespace, updated_at DESC) WHERE is_deleted = 0;
CREATE INDEX IF NOT EXISTS idx_memory_conflict_detection
    ON memory_entries(namespace, key, is_deleted, version DESC);
CREATE INDEX IF NOT EXISTS idx_memory_episodic_ttl
    ON memory_entries(memory_type, updated_at) WHERE memory_type = 'episodic' AND is_deleted = 0;
CREATE INDEX IF NOT EXISTS idx_memory_created_by ON memory_entries(created_by, created_at DESC);

-- document_index
CREATE UNIQUE INDEX IF NOT EXISTS idx_document_index_pk ON document_index(id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_document_file_path ON document_index(file_path);
CREATE INDEX IF NOT EXISTS idx_document_type_created
    ON document_index(document_type, created_at DESC) WHERE document_type IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_document_sync_status
    ON document_index(sync_status, last_synced_at) WHERE sync_status IN ('pending', 'stale');
CREATE INDEX IF NOT EXISTS idx_document_content_hash ON document_index(content_hash);

-- tasks
CREATE INDEX IF NOT EXISTS idx_tasks_status_priority
    ON tasks(status, priority DESC, submitted_at ASC);
CREATE INDEX IF NOT EXISTS idx_tasks_submitted_at ON tasks(submitted_at);
CREATE INDEX IF NOT EXISTS idx_tasks_parent ON tasks(parent_task_id);
CREATE INDEX IF NOT EXISTS idx_tasks_running_timeout
    ON tasks(status, last_updated_at) WHERE status = 'running';
CREATE INDEX IF NOT EXISTS idx_tasks_session
    ON tasks(session_id, submitted_at DESC) WHERE session_id IS NOT NULL;

-- agents
CREATE INDEX IF NOT EXISTS idx_agents_task ON agents(task_id);
CREATE INDEX IF NOT EXISTS idx_agents_state ON agents(state);
CREATE INDEX IF NOT EXISTS idx_agents_session
    ON agents(session_id, spawned_at DESC) WHERE session_id IS NOT NULL;

-- audit
CREATE INDEX IF NOT EXISTS idx_audit_task ON audit(task_id, timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_audit_agent ON audit(agent_id, timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_audit_timestamp ON audit(timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_audit_memory_operations
    ON audit(memory_operation_type, timestamp DESC) WHERE memory_operation_type IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_audit_memory_namespace
    ON audit(memory_namespace, timestamp DESC) WHERE memory_namespace IS NOT NULL;
CREATE INDEX IF NOT EXISTS idx_audit_memory_entry
    ON audit(memory_entry_id, timestamp DESC) WHERE memory_entry_id IS NOT NULL;

-- state, metrics, checkpoints
CREATE INDEX IF NOT EXISTS idx_state_task_key ON state(task_id, key);
CREATE INDEX IF NOT EXISTS idx_metrics_name_timestamp ON metrics(metric_name, timestamp DESC);
CREATE INDEX IF NOT EXISTS idx_checkpoints_task ON checkpoints(task_id, iteration DESC);
