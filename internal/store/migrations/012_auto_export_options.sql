ALTER TABLE snapshots ADD COLUMN auto_export_options TEXT NOT NULL DEFAULT ''
