CREATE TABLE export_buckets (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    bucket_name TEXT NOT NULL,
    cloud_provider TEXT NOT NULL,
    role_id TEXT NOT NULL,
    service_url TEXT NOT NULL DEFAULT '',
    tenant_id TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    require_private_networking BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX export_buckets_group ON export_buckets (group_id, created_at, id);

CREATE TABLE snapshots (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    snapshot_type TEXT NOT NULL,
    frequency_type TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    replica_set_name TEXT NOT NULL DEFAULT '',
    members TEXT NOT NULL DEFAULT '[]',
    mongod_version TEXT NOT NULL DEFAULT '',
    storage_size_bytes BIGINT NOT NULL DEFAULT 0,
    consistency TEXT NOT NULL DEFAULT '',
    failure_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX snapshots_cluster ON snapshots (group_id, cluster_name, kind, created_at, id);

CREATE TABLE export_jobs (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    export_bucket_id TEXT NOT NULL,
    custom_data TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    prefix TEXT NOT NULL,
    exported_collections INTEGER NOT NULL DEFAULT 0,
    total_collections INTEGER NOT NULL DEFAULT 0,
    components TEXT NOT NULL DEFAULT '[]',
    state_reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX export_jobs_cluster ON export_jobs (group_id, cluster_name, created_at, id);
CREATE INDEX export_jobs_bucket ON export_jobs (export_bucket_id, state);
CREATE UNIQUE INDEX export_jobs_one_active ON export_jobs (snapshot_id) WHERE state IN ('Queued', 'InProgress');
