ALTER TABLE snapshots ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN queued_at BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX snapshots_one_unfinished_on_demand ON snapshots (group_id, cluster_name) WHERE snapshot_type = 'onDemand' AND status IN ('queued', 'inProgress');
CREATE INDEX snapshots_expiry ON snapshots (status, expires_at)
