// Package store persists snapex's resources (export buckets, snapshots,
// export jobs, auth state) in SQLite, the embedded default, or PostgreSQL,
// the engine several replicas share. One implementation speaks both through
// database/sql with a small dialect table; one test suite runs on both.
package store

import (
	"errors"
	"time"
)

// Errors the store returns; callers translate them into Atlas errors.
var (
	// ErrNotFound means no row matched.
	ErrNotFound = errors.New("store: not found")
	// ErrActiveExport means the snapshot already has a queued or running export.
	ErrActiveExport = errors.New("store: snapshot already has an active export")
	// ErrBucketInUse means a queued or running export still uses the bucket.
	ErrBucketInUse = errors.New("store: export bucket is used by an active export")
	// ErrBadTransition means a state change is not allowed from the current state.
	ErrBadTransition = errors.New("store: state transition not allowed")
	// ErrPrefixTaken means another job of the bucket already writes under
	// the same prefix.
	ErrPrefixTaken = errors.New("store: export prefix already used in this bucket")
	// ErrDuplicate means a row with the same identity exists.
	ErrDuplicate = errors.New("store: duplicate")
)

// millis converts a time to the stored representation (Unix milliseconds).
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis converts the stored representation back, in UTC.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
