CREATE UNIQUE INDEX export_jobs_unique_prefix ON export_jobs (export_bucket_id, prefix)
