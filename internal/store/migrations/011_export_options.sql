ALTER TABLE export_jobs ADD COLUMN snapex_options TEXT NOT NULL DEFAULT ''
