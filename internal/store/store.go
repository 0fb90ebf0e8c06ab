// Package store persists snapex's resources (export buckets, snapshots,
// export jobs, auth state) in SQLite, the embedded default, or PostgreSQL,
// the engine several replicas share. One implementation speaks both through
// database/sql with a small dialect table; one test suite runs on both.
package store

import (
	"errors"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// Errors the store returns; callers translate them into Atlas errors. The
// domain's conditions are the atlas.Conflict values themselves.
var (
	// ErrNotFound means no row matched.
	ErrNotFound error = atlas.NotFound
	// ErrActiveExport means the snapshot already has a queued or running export.
	ErrActiveExport error = atlas.ActiveExportExists
	// ErrBucketInUse means a queued or running export (or restore job) still uses the bucket.
	ErrBucketInUse error = atlas.BucketInUse
	// ErrBadTransition means a state change is not allowed from the current state.
	ErrBadTransition = errors.New("store: state transition not allowed")
	// ErrPrefixTaken means another job of the bucket already writes under
	// the same prefix.
	ErrPrefixTaken error = atlas.PrefixTaken
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
