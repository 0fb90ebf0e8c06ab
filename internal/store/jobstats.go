package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// JobStats is a census of one kind's jobs, for metrics read at scrape
// time.
type JobStats struct {
	// ByState counts jobs by their state as the API spells it.
	ByState map[string]int
	// Queued counts jobs waiting for a worker (the queue's depth), and
	// OldestQueued is when the oldest of them was queued (zero when none).
	Queued       int
	OldestQueued time.Time
}

// JobStats counts k's jobs by state and finds the oldest queued one.
// Imported snapshots (never queued) count under their state too.
func (s *Store) JobStats(ctx context.Context, k JobKind) (JobStats, error) {
	st := JobStats{ByState: map[string]int{}}
	rows, err := s.db.QueryContext(ctx, `SELECT `+k.state+`, COUNT(*) FROM `+k.table+` GROUP BY `+k.state)
	if err != nil {
		return st, fmt.Errorf("%s job stats: %w", k.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("%s job stats: %w", k.Name, err)
		}
		st.ByState[state] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("%s job stats: %w", k.Name, err)
	}
	var oldest sql.NullInt64
	err = s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*), MIN(`+k.queuedAt+`) FROM `+k.table+` WHERE `+k.state+` = ?`), k.queued).
		Scan(&st.Queued, &oldest)
	if err != nil {
		return st, fmt.Errorf("%s queue depth: %w", k.Name, err)
	}
	if oldest.Valid && st.Queued > 0 {
		st.OldestQueued = fromMillis(oldest.Int64)
	}
	return st, nil
}
