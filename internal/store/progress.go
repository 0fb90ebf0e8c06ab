package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

// ProgressKey is atlas.ProgressKey, the unit the progress rows are keyed by.
type ProgressKey = atlas.ProgressKey

// Progress is atlas.Progress, what one progress row records.
type Progress = atlas.Progress

// ExportProgress returns the recorded progress of every unit of a job.
func (s *Store) ExportProgress(ctx context.Context, jobID string) (map[ProgressKey]Progress, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT replica_set, db, coll, next_chunk, docs_done, bytes_done, done FROM export_progress WHERE job_id = ?`), jobID)
	if err != nil {
		return nil, fmt.Errorf("export progress of %s: %w", jobID, err)
	}
	defer rows.Close()
	out := map[ProgressKey]Progress{}
	for rows.Next() {
		var p Progress
		if err := rows.Scan(&p.ReplicaSet, &p.DB, &p.Coll, &p.NextChunk, &p.DocsDone, &p.BytesDone, &p.Done); err != nil {
			return nil, fmt.Errorf("export progress of %s: %w", jobID, err)
		}
		out[p.ProgressKey] = p
	}
	return out, rows.Err()
}

// SaveExportProgress records the progress of one or more units in one
// transaction, fenced by the job's lease so a worker that lost its lease
// cannot overwrite its successor's record. Recording many units at once
// is what keeps a job of thousands of small collections from spending a
// transaction on each.
func (s *Store) SaveExportProgress(ctx context.Context, jobID, owner string, ps ...Progress) error {
	if len(ps) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.leaseHolder(ctx, tx, ExportJobs, jobID, owner); err != nil {
			return err
		}
		for rest := ps; len(rest) > 0; {
			n := min(len(rest), progressRowsPerStatement)
			if err := s.upsertProgress(ctx, tx, jobID, rest[:n]); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		p := ps[0]
		return fmt.Errorf("save export progress of %s (%d units, first %s.%s on %s): %w", jobID, len(ps), p.DB, p.Coll, p.ReplicaSet, err)
	}
	return nil
}

// progressRowsPerStatement keeps one statement's parameters (8 per row)
// well under SQLite's and PostgreSQL's limits.
const progressRowsPerStatement = 500

// upsertProgress writes rows in one statement. A key given twice keeps
// its last value, as if saved one after the other.
func (s *Store) upsertProgress(ctx context.Context, tx *sql.Tx, jobID string, ps []Progress) error {
	last := make(map[ProgressKey]int, len(ps))
	for i, p := range ps {
		last[p.ProgressKey] = i
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO export_progress (job_id, replica_set, db, coll, next_chunk, docs_done, bytes_done, done) VALUES `)
	args := make([]any, 0, 8*len(last))
	for i, p := range ps {
		if last[p.ProgressKey] != i {
			continue
		}
		if len(args) > 0 {
			q.WriteByte(',')
		}
		q.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?)`)
		args = append(args, jobID, p.ReplicaSet, p.DB, p.Coll, p.NextChunk, p.DocsDone, p.BytesDone, p.Done)
	}
	q.WriteString(` ON CONFLICT (job_id, replica_set, db, coll) DO UPDATE SET next_chunk = excluded.next_chunk,
		docs_done = excluded.docs_done, bytes_done = excluded.bytes_done, done = excluded.done`)
	_, err := s.exec(ctx, tx, q.String(), args...)
	return err
}
