CREATE TABLE backup_schedules (
    group_id TEXT NOT NULL,
    cluster_name TEXT NOT NULL,
    body TEXT NOT NULL,
    export_bucket_id TEXT NOT NULL DEFAULT '',
    last_slot BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (group_id, cluster_name)
);
CREATE INDEX backup_schedules_bucket ON backup_schedules (export_bucket_id);
ALTER TABLE snapshots ADD COLUMN policy_items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE snapshots ADD COLUMN scheduled_for BIGINT NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN auto_export_bucket TEXT NOT NULL DEFAULT '';
ALTER TABLE snapshots ADD COLUMN auto_export_done INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX snapshots_one_per_slot ON snapshots (group_id, cluster_name, scheduled_for) WHERE scheduled_for > 0;
CREATE INDEX snapshots_auto_export ON snapshots (auto_export_done, auto_export_bucket)
