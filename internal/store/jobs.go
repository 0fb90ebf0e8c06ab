package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/snapex/snapex/internal/atlas"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

const jobColumns = `id, group_id, cluster_name, snapshot_id, export_bucket_id, custom_data, state, prefix, exported_collections, total_collections, components, state_reason, created_at, finished_at, snapex_options`

// jobReadColumns are what scanJob reads: the written columns, then the
// progress record, the cancel reason and the runner's attempt record.
const jobReadColumns = jobColumns + `, progress, cancel_reason, attempts, last_error, retry_at`

// CreateExportJob inserts a queued export job after checking, in the same
// transaction, that its bucket still exists in the project and that the
// snapshot has no other active export; then runs enqueue (may be nil) in
// that transaction.
func (s *Store) CreateExportJob(ctx context.Context, j *atlas.ExportJob, enqueue InTx) error {
	err := s.hookTx(ctx, func(q querier, tx Tx) error {
		var one int
		err := q.queryRow(ctx, `SELECT 1 FROM export_buckets WHERE group_id = ? AND id = ?`+s.d.forUpdate, j.GroupID, j.ExportBucketID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := insertJob(ctx, q, j); err != nil {
			return err
		}
		if enqueue != nil {
			return enqueue(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create export job %s: %w", j.ID, err)
	}
	return nil
}

func insertJob(ctx context.Context, q querier, j *atlas.ExportJob) error {
	custom, comps, reason, err := jobJSON(j)
	if err != nil {
		return err
	}
	opts, err := optionsJSON(j.Options)
	if err != nil {
		return err
	}
	err = q.exec(ctx, `INSERT INTO export_jobs (`+jobColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.GroupID, j.ClusterName, j.SnapshotID, j.ExportBucketID, custom, string(j.State), j.Prefix,
		j.ExportedCollections, j.TotalCollections, comps, reason, millis(j.CreatedAt), finishedMillis(j), opts)
	if isUniqueViolation(err) {
		if strings.Contains(err.Error(), "prefix") {
			return ErrPrefixTaken
		}
		return ErrActiveExport
	}
	return err
}

// GetExportJob returns one export job of a cluster.
func (s *Store) GetExportJob(ctx context.Context, groupID, cluster, id string) (*atlas.ExportJob, error) {
	return getRow(ctx, s, "export job", id, jobReadColumns, "export_jobs", "group_id = ? AND cluster_name = ? AND id = ?", scanJob, groupID, cluster, id)
}

// ExportJobByID returns an export job by id alone (workers, admin commands).
func (s *Store) ExportJobByID(ctx context.Context, id string) (*atlas.ExportJob, error) {
	return getRow(ctx, s, "export job", id, jobReadColumns, "export_jobs", "id = ?", scanJob, id)
}

// ListExportJobs returns one page of a cluster's export jobs, oldest first,
// and the total count.
func (s *Store) ListExportJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.ExportJob, int, error) {
	return listPage(ctx, s, "export jobs", jobReadColumns, "export_jobs", "group_id = ? AND cluster_name = ?", "created_at, id", p, scanJob, groupID, cluster)
}

// UpdateExportJob applies fn to a job inside a transaction (the row is
// locked on PostgreSQL) and saves it. A state change fn makes must be one
// atlas.ExportState.CanMoveTo allows, else ErrBadTransition.
func (s *Store) UpdateExportJob(ctx context.Context, id string, fn func(*atlas.ExportJob) error) (*atlas.ExportJob, error) {
	return s.updateExportJob(ctx, id, nil, fn)
}

// updateExportJob locks the row, checks the lease when owner is given,
// applies fn and saves.
func (s *Store) updateExportJob(ctx context.Context, id string, owner *string, fn func(*atlas.ExportJob) error) (*atlas.ExportJob, error) {
	var out *atlas.ExportJob
	err := s.tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+jobReadColumns+` FROM export_jobs WHERE id = ?`+s.d.forUpdate), id))
		if err != nil {
			return err
		}
		if owner != nil {
			if err := s.leaseHolder(ctx, tx, ExportJobs, id, *owner); err != nil {
				return err
			}
		}
		before := j.State
		if err := fn(j); err != nil {
			return err
		}
		if j.State != before && !before.CanMoveTo(j.State) {
			return fmt.Errorf("%w: %s to %s", ErrBadTransition, before, j.State)
		}
		custom, comps, reason, err := jobJSON(j)
		if err != nil {
			return err
		}
		progress, err := progressJSON(j.Progress)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE export_jobs SET custom_data = ?, state = ?, exported_collections = ?, total_collections = ?, components = ?, state_reason = ?, finished_at = ?, progress = ? WHERE id = ?`,
			custom, string(j.State), j.ExportedCollections, j.TotalCollections, comps, reason, finishedMillis(j), progress, id)
		out = j
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update export job %s: %w", id, err)
	}
	return out, nil
}

// ActiveExportJobsForSnapshot lists queued or running jobs of a snapshot.
func (s *Store) ActiveExportJobsForSnapshot(ctx context.Context, snapshotID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id FROM export_jobs WHERE snapshot_id = ? AND state IN ('Queued', 'InProgress')`), snapshotID)
	if err != nil {
		return nil, fmt.Errorf("active exports of snapshot %s: %w", snapshotID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("active exports of snapshot %s: %w", snapshotID, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func jobJSON(j *atlas.ExportJob) (custom, comps, reason string, err error) {
	cb, err := json.Marshal(nonNil(j.CustomData))
	if err != nil {
		return "", "", "", err
	}
	pb, err := json.Marshal(nonNil(j.Components))
	if err != nil {
		return "", "", "", err
	}
	if j.StateReason != nil {
		rb, err := json.Marshal(j.StateReason)
		if err != nil {
			return "", "", "", err
		}
		reason = string(rb)
	}
	return string(cb), string(pb), reason, nil
}

// optionsJSON stores a job's snapex options; "" for a plain export.
func optionsJSON(o *atlas.ExportOptions) (string, error) {
	if o == nil {
		return "", nil
	}
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("encode snapexOptions: %w", err)
	}
	return string(b), nil
}

// decodeOptions reads what optionsJSON stored; nil for "".
func decodeOptions(s string) (*atlas.ExportOptions, error) {
	if s == "" {
		return nil, nil
	}
	var o atlas.ExportOptions
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return nil, fmt.Errorf("decode snapexOptions: %w", err)
	}
	return &o, nil
}

func finishedMillis(j *atlas.ExportJob) int64 {
	if j.FinishedAt == nil {
		return 0
	}
	return millis(*j.FinishedAt)
}

func scanJob(r scanner) (*atlas.ExportJob, error) {
	var j atlas.ExportJob
	var custom, state, comps, reason, opts, progress, cancel string
	var created, finished, retryAt int64
	err := r.Scan(&j.ID, &j.GroupID, &j.ClusterName, &j.SnapshotID, &j.ExportBucketID, &custom, &state, &j.Prefix,
		&j.ExportedCollections, &j.TotalCollections, &comps, &reason, &created, &finished, &opts,
		&progress, &cancel, &j.Attempts.Count, &j.Attempts.LastError, &retryAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(custom), &j.CustomData); err != nil {
		return nil, fmt.Errorf("export job %s customData: %w", j.ID, err)
	}
	if err := json.Unmarshal([]byte(comps), &j.Components); err != nil {
		return nil, fmt.Errorf("export job %s components: %w", j.ID, err)
	}
	if reason != "" {
		j.StateReason = &atlas.StateReason{}
		if err := json.Unmarshal([]byte(reason), j.StateReason); err != nil {
			return nil, fmt.Errorf("export job %s stateReason: %w", j.ID, err)
		}
	}
	if j.Options, err = decodeOptions(opts); err != nil {
		return nil, fmt.Errorf("export job %s: %w", j.ID, err)
	}
	if err := scanProgress(progress, &j.Progress); err != nil {
		return nil, fmt.Errorf("export job %s progress: %w", j.ID, err)
	}
	if cancel != "" {
		j.CancelReason = &atlas.StateReason{}
		if err := json.Unmarshal([]byte(cancel), j.CancelReason); err != nil {
			return nil, fmt.Errorf("export job %s cancel reason: %w", j.ID, err)
		}
	}
	if retryAt != 0 {
		j.Attempts.RetryAt = fromMillis(retryAt)
	}
	j.State = atlas.ExportState(state)
	j.CreatedAt = fromMillis(created)
	if finished != 0 {
		t := fromMillis(finished)
		j.FinishedAt = &t
	}
	return &j, nil
}

// isUniqueViolation recognises a unique-constraint failure on either engine.
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// UpdateExportJobAs is UpdateExportJob fenced by the lease: it fails with
// ErrLeaseLost unless owner holds the job's lease.
func (s *Store) UpdateExportJobAs(ctx context.Context, id, owner string, fn func(*atlas.ExportJob) error) (*atlas.ExportJob, error) {
	return s.updateExportJob(ctx, id, &owner, fn)
}

// RequestExportCancel cancels a job on a user's request (see
// RequestExportCancelBecause).
func (s *Store) RequestExportCancel(ctx context.Context, id string, now time.Time) (*atlas.ExportJob, error) {
	return s.RequestExportCancelBecause(ctx, id, now, atlas.CancelledByUser())
}

// RequestExportCancelBecause cancels a job: a queued job nobody works on
// becomes Cancelled at once; a running one is flagged and its worker stops
// at the next chunk boundary. reason becomes the Cancelled job's
// stateReason (the first request's reason wins). Terminal jobs are
// returned unchanged.
func (s *Store) RequestExportCancelBecause(ctx context.Context, id string, now time.Time, reason atlas.StateReason) (*atlas.ExportJob, error) {
	why, err := jsonText(reason)
	if err != nil {
		return nil, fmt.Errorf("cancel export job %s: %w", id, err)
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `UPDATE export_jobs SET cancel_requested = TRUE,
			cancel_reason = CASE WHEN cancel_reason = '' THEN ? ELSE cancel_reason END
			WHERE id = ? AND state IN ('Queued', 'InProgress')`, why, id)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE export_jobs SET state = 'Cancelled', finished_at = ?, cancel_requested = TRUE, state_reason = cancel_reason
			WHERE id = ? AND state = 'Queued' AND (lease_owner = '' OR lease_until < ?)`, millis(now), id, millis(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cancel export job %s: %w", id, err)
	}
	return s.ExportJobByID(ctx, id)
}
