ALTER TABLE export_jobs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE export_jobs ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE export_jobs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX export_jobs_active ON export_jobs (state, lease_until);
CREATE TABLE export_progress (
    job_id TEXT NOT NULL,
    replica_set TEXT NOT NULL,
    db TEXT NOT NULL,
    coll TEXT NOT NULL,
    next_chunk INTEGER NOT NULL DEFAULT 0,
    docs_done BIGINT NOT NULL DEFAULT 0,
    bytes_done BIGINT NOT NULL DEFAULT 0,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (job_id, replica_set, db, coll)
)
