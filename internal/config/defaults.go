package config

import "time"

// The defaults of the tuning settings, applied once when the config is
// loaded so that every consumer reads the values in effect.
const (
	DefaultChunkMiB              = 64
	DefaultExportParallelism     = 2
	DefaultGzipLevel             = 1
	DefaultConcurrency           = 2
	DefaultLeaseSeconds          = 15
	DefaultRequestTimeoutSeconds = 120
	DefaultMaxAttempts           = 5
	DefaultRetryBackoffMillis    = 5000

	DefaultSnapshotParallelism           = 2
	DefaultConnectTimeoutSeconds         = 10
	DefaultServerSelectionTimeoutSeconds = 30
	DefaultOperationTimeoutSeconds       = 300
	DefaultExpiryCheckSeconds            = 60
	DefaultScheduleCheckSeconds          = 30
)

// retryBackoffCap is where the doubling retry wait stops growing (unless
// the first wait is longer).
const retryBackoffCap = time.Minute

func orDefault(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func (e *ExportSettings) applyDefaults() {
	orDefault(&e.ChunkMiB, DefaultChunkMiB)
	orDefault(&e.Parallelism, DefaultExportParallelism)
	orDefault(&e.GzipLevel, DefaultGzipLevel)
	orDefault(&e.Concurrency, DefaultConcurrency)
	orDefault(&e.LeaseSeconds, DefaultLeaseSeconds)
	orDefault(&e.RequestTimeoutSeconds, DefaultRequestTimeoutSeconds)
	orDefault(&e.MaxAttempts, DefaultMaxAttempts)
	orDefault(&e.RetryBackoffMillis, DefaultRetryBackoffMillis)
}

func (s *SnapshotSettings) applyDefaults() {
	orDefault(&s.Parallelism, DefaultSnapshotParallelism)
	orDefault(&s.ConnectTimeoutSeconds, DefaultConnectTimeoutSeconds)
	orDefault(&s.ServerSelectionTimeoutSeconds, DefaultServerSelectionTimeoutSeconds)
	orDefault(&s.OperationTimeoutSeconds, DefaultOperationTimeoutSeconds)
	orDefault(&s.GzipLevel, DefaultGzipLevel)
	orDefault(&s.ExpiryCheckSeconds, DefaultExpiryCheckSeconds)
	orDefault(&s.ScheduleCheckSeconds, DefaultScheduleCheckSeconds)
}

// LeaseTTL is how long a job lease lasts without renewal.
func (e *ExportSettings) LeaseTTL() time.Duration {
	return time.Duration(e.LeaseSeconds) * time.Second
}

// RetryBackoff is the wait after a job's first failed attempt.
func (e *ExportSettings) RetryBackoff() time.Duration {
	return time.Duration(e.RetryBackoffMillis) * time.Millisecond
}

// RetryBackoffMax is the longest wait between two attempts of a job.
func (e *ExportSettings) RetryBackoffMax() time.Duration {
	return max(e.RetryBackoff(), retryBackoffCap)
}
