package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// RestoreJobs are restore jobs (restore_jobs, migration 009).
var RestoreJobs = JobKind{Name: "restore", table: "restore_jobs", active: "state IN ('Queued', 'InProgress')",
	queuedAt: "created_at", cancel: "cancel_requested"}

const restoreColumns = `id, group_id, cluster_name, export_job_id, source_url, source_role_id, target_cluster_name,
	target_database_name, options, state, state_reason, documents_restored, files_done, namespaces_done, report, created_at, finished_at`

// CreateRestoreJob inserts a queued restore job and runs enqueue (may be
// nil) in the same transaction.
func (s *Store) CreateRestoreJob(ctx context.Context, j *atlas.RestoreJob, enqueue InTx) error {
	err := s.hookTx(ctx, func(q querier, tx Tx) error {
		opts, reason, err := restoreJSON(j)
		if err != nil {
			return err
		}
		err = q.exec(ctx, `INSERT INTO restore_jobs (`+restoreColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, j.GroupID, j.ClusterName, j.ExportJobID, j.SourceURL, j.SourceRoleID, j.TargetClusterName,
			j.TargetDatabaseName, opts, string(j.State), reason, j.Progress.DocumentsRestored, j.Progress.FilesDone,
			j.Progress.NamespacesDone, string(j.Report), millis(j.CreatedAt), restoreFinished(j))
		if err != nil {
			return err
		}
		if enqueue != nil {
			return enqueue(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create restore job %s: %w", j.ID, err)
	}
	return nil
}

// GetRestoreJob returns one restore job listed under a cluster.
func (s *Store) GetRestoreJob(ctx context.Context, groupID, cluster, id string) (*atlas.RestoreJob, error) {
	return getRow(ctx, s, "restore job", id, restoreColumns, "restore_jobs", "group_id = ? AND cluster_name = ? AND id = ?", scanRestoreJob, groupID, cluster, id)
}

// RestoreJobByID returns a restore job by id alone (workers).
func (s *Store) RestoreJobByID(ctx context.Context, id string) (*atlas.RestoreJob, error) {
	return getRow(ctx, s, "restore job", id, restoreColumns, "restore_jobs", "id = ?", scanRestoreJob, id)
}

// ListRestoreJobs returns one page of a cluster's restore jobs, oldest
// first, and the total count.
func (s *Store) ListRestoreJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.RestoreJob, int, error) {
	return listPage(ctx, s, "restore jobs", restoreColumns, "restore_jobs", "group_id = ? AND cluster_name = ?", "created_at, id", p, scanRestoreJob, groupID, cluster)
}

// UpdateRestoreJobAs applies fn to a job and saves its state, reason,
// report and finish time, fenced by the lease: ErrLeaseLost unless owner
// holds it. A state change must be one atlas.ExportState.CanMoveTo allows.
func (s *Store) UpdateRestoreJobAs(ctx context.Context, id, owner string, fn func(*atlas.RestoreJob) error) (*atlas.RestoreJob, error) {
	var out *atlas.RestoreJob
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.leaseHolder(ctx, tx, RestoreJobs, id, owner); err != nil {
			return err
		}
		// Locked (on PostgreSQL) like an export job's row, so a state
		// read here cannot be changed by another transaction before the
		// update below writes what fn made of it.
		j, err := scanRestoreJob(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+restoreColumns+` FROM restore_jobs WHERE id = ?`+s.d.forUpdate), id))
		if err != nil {
			return err
		}
		before := j.State
		if err := fn(j); err != nil {
			return err
		}
		if j.State != before && !before.CanMoveTo(j.State) {
			return fmt.Errorf("%w: %s to %s", ErrBadTransition, before, j.State)
		}
		_, reason, err := restoreJSON(j)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE restore_jobs SET state = ?, state_reason = ?, report = ?, finished_at = ? WHERE id = ?`,
			string(j.State), reason, string(j.Report), restoreFinished(j), id)
		out = j
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update restore job %s: %w", id, err)
	}
	return out, nil
}

// RequestRestoreCancel cancels a job: a queued job nobody works on becomes
// Cancelled at once; a running one is flagged and its worker stops after
// its current batches. Terminal jobs are returned unchanged.
func (s *Store) RequestRestoreCancel(ctx context.Context, id string, now time.Time) (*atlas.RestoreJob, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `UPDATE restore_jobs SET cancel_requested = TRUE WHERE id = ? AND state IN ('Queued', 'InProgress')`, id)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE restore_jobs SET state = 'Cancelled', finished_at = ?
			WHERE id = ? AND state = 'Queued' AND (lease_owner = '' OR lease_until < ?)`, millis(now), id, millis(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cancel restore job %s: %w", id, err)
	}
	return s.RestoreJobByID(ctx, id)
}

func restoreJSON(j *atlas.RestoreJob) (opts, reason string, err error) {
	ob, err := json.Marshal(j.Options)
	if err != nil {
		return "", "", err
	}
	if j.StateReason != nil {
		rb, err := json.Marshal(j.StateReason)
		if err != nil {
			return "", "", err
		}
		reason = string(rb)
	}
	return string(ob), reason, nil
}

func restoreFinished(j *atlas.RestoreJob) int64 {
	if j.FinishedAt == nil {
		return 0
	}
	return millis(*j.FinishedAt)
}

func scanRestoreJob(r scanner) (*atlas.RestoreJob, error) {
	var j atlas.RestoreJob
	var opts, state, reason, report string
	var created, finished int64
	err := r.Scan(&j.ID, &j.GroupID, &j.ClusterName, &j.ExportJobID, &j.SourceURL, &j.SourceRoleID, &j.TargetClusterName,
		&j.TargetDatabaseName, &opts, &state, &reason, &j.Progress.DocumentsRestored, &j.Progress.FilesDone,
		&j.Progress.NamespacesDone, &report, &created, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(opts), &j.Options); err != nil {
		return nil, fmt.Errorf("restore job %s options: %w", j.ID, err)
	}
	if reason != "" {
		j.StateReason = &atlas.StateReason{}
		if err := json.Unmarshal([]byte(reason), j.StateReason); err != nil {
			return nil, fmt.Errorf("restore job %s stateReason: %w", j.ID, err)
		}
	}
	if report != "" {
		j.Report = []byte(report)
	}
	j.State = atlas.ExportState(state)
	j.CreatedAt = fromMillis(created)
	if finished != 0 {
		t := fromMillis(finished)
		j.FinishedAt = &t
	}
	return &j, nil
}
