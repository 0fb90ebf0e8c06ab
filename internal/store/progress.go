package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// ProgressKey names one unit of export work: a collection on a replica set.
type ProgressKey struct {
	ReplicaSet string
	DB         string
	Coll       string
}

// Progress is how far a unit got: chunks 0..NextChunk-1 are uploaded and
// hold the first DocsDone documents (BytesDone bytes of BSON); Done once
// every document is exported.
type Progress struct {
	ProgressKey
	NextChunk int
	DocsDone  int64
	BytesDone int64
	Done      bool
}

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

// SaveExportProgress records a unit's progress, fenced by the job's lease
// so a worker that lost its lease cannot overwrite its successor's record.
func (s *Store) SaveExportProgress(ctx context.Context, jobID, owner string, p Progress) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var holder string
		err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT lease_owner FROM export_jobs WHERE id = ?`+s.d.forUpdate), jobID).Scan(&holder)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if holder != owner {
			return ErrLeaseLost
		}
		res, err := s.exec(ctx, tx, `UPDATE export_progress SET next_chunk = ?, docs_done = ?, bytes_done = ?, done = ?
			WHERE job_id = ? AND replica_set = ? AND db = ? AND coll = ?`,
			p.NextChunk, p.DocsDone, p.BytesDone, p.Done, jobID, p.ReplicaSet, p.DB, p.Coll)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = s.exec(ctx, tx, `INSERT INTO export_progress (job_id, replica_set, db, coll, next_chunk, docs_done, bytes_done, done) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			jobID, p.ReplicaSet, p.DB, p.Coll, p.NextChunk, p.DocsDone, p.BytesDone, p.Done)
		return err
	})
	if err != nil {
		return fmt.Errorf("save export progress of %s %s.%s on %s: %w", jobID, p.DB, p.Coll, p.ReplicaSet, err)
	}
	return nil
}
