CREATE TABLE restore_jobs (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    export_job_id TEXT NOT NULL DEFAULT '',
    source_url TEXT NOT NULL DEFAULT '',
    source_role_id TEXT NOT NULL DEFAULT '',
    target_cluster_name TEXT NOT NULL,
    target_database_name TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL,
    state_reason TEXT NOT NULL DEFAULT '',
    documents_restored BIGINT NOT NULL DEFAULT 0,
    files_done INTEGER NOT NULL DEFAULT 0,
    namespaces_done INTEGER NOT NULL DEFAULT 0,
    report TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until BIGINT NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX restore_jobs_cluster ON restore_jobs (group_id, cluster_name, created_at, id);
CREATE INDEX restore_jobs_active ON restore_jobs (state, lease_until);
CREATE TABLE restore_progress (
    job_id TEXT NOT NULL,
    run TEXT NOT NULL,
    kind TEXT NOT NULL,
    rkey TEXT NOT NULL,
    docs BIGINT NOT NULL DEFAULT 0,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    record TEXT NOT NULL,
    PRIMARY KEY (job_id, run, kind, rkey)
)
