package store

import (
	"context"
	"database/sql"
	"fmt"
)

// RestoreProgressRow is one record of a restore job's progress: the run,
// a namespace or a data file (Kind), under its Key. Record is the restore
// engine's record as the caller encoded it; Docs and Done are copied out
// of it so the job's counters can be summed in SQL.
type RestoreProgressRow struct {
	Kind   string
	Key    string
	Docs   int64
	Done   bool
	Record string
}

// Kinds of restore progress rows.
const (
	RestoreProgressRun       = "run"
	RestoreProgressNamespace = "namespace"
	RestoreProgressFile      = "file"
)

// RestoreProgress returns every progress row of a job's run.
func (s *Store) RestoreProgress(ctx context.Context, jobID, run string) ([]RestoreProgressRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT kind, rkey, docs, done, record FROM restore_progress WHERE job_id = ? AND run = ?`), jobID, run)
	if err != nil {
		return nil, fmt.Errorf("restore progress of %s: %w", jobID, err)
	}
	defer rows.Close()
	var out []RestoreProgressRow
	for rows.Next() {
		var r RestoreProgressRow
		if err := rows.Scan(&r.Kind, &r.Key, &r.Docs, &r.Done, &r.Record); err != nil {
			return nil, fmt.Errorf("restore progress of %s: %w", jobID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRestoreProgress records one row, fenced by the job's lease so a
// worker that lost it cannot overwrite its successor's record, and
// refreshes the job's counters in the same transaction: the counters a
// client reads are those a successor resumes from.
func (s *Store) SaveRestoreProgress(ctx context.Context, jobID, owner, run string, r RestoreProgressRow) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.leaseHolder(ctx, tx, RestoreJobs, jobID, owner); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO restore_progress (job_id, run, kind, rkey, docs, done, record) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (job_id, run, kind, rkey) DO UPDATE SET docs = excluded.docs, done = excluded.done, record = excluded.record`,
			jobID, run, r.Kind, r.Key, r.Docs, r.Done, r.Record); err != nil {
			return err
		}
		return s.refreshRestoreCounters(ctx, tx, jobID, run)
	})
	if err != nil {
		return fmt.Errorf("save restore progress of %s (%s %s): %w", jobID, r.Kind, r.Key, err)
	}
	return nil
}

// ClearRestoreProgress forgets a run's progress, fenced by the lease.
func (s *Store) ClearRestoreProgress(ctx context.Context, jobID, owner, run string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.leaseHolder(ctx, tx, RestoreJobs, jobID, owner); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM restore_progress WHERE job_id = ? AND run = ?`, jobID, run); err != nil {
			return err
		}
		return s.refreshRestoreCounters(ctx, tx, jobID, run)
	})
	if err != nil {
		return fmt.Errorf("clear restore progress of %s: %w", jobID, err)
	}
	return nil
}

// refreshRestoreCounters sums the run's rows into the job's counters; a
// namespace counts as done when its row is marked done (indexed).
func (s *Store) refreshRestoreCounters(ctx context.Context, tx *sql.Tx, jobID, run string) error {
	_, err := s.exec(ctx, tx, `UPDATE restore_jobs SET
		documents_restored = (SELECT COALESCE(SUM(docs), 0) FROM restore_progress WHERE job_id = ? AND run = ? AND kind = 'file'),
		files_done = (SELECT COUNT(*) FROM restore_progress WHERE job_id = ? AND run = ? AND kind = 'file' AND done),
		namespaces_done = (SELECT COUNT(*) FROM restore_progress WHERE job_id = ? AND run = ? AND kind = 'namespace' AND done)
		WHERE id = ?`, jobID, run, jobID, run, jobID, run, jobID)
	return err
}
