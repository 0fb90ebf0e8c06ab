package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
)

const snapshotColumns = `id, group_id, cluster_name, kind, status, snapshot_type, frequency_type, description, replica_set_name, members, mongod_version, storage_size_bytes, consistency, failure_reason, created_at, expires_at`

// snapshotReadColumns are what scanSnapshot reads: the written columns,
// then the capture's progress and the runner's attempt record.
const snapshotReadColumns = snapshotColumns + `, progress, attempts, last_error, retry_at`

// CreateSnapshot inserts a snapshot row.
func (s *Store) CreateSnapshot(ctx context.Context, sn *atlas.Snapshot) error {
	return s.insertSnapshot(ctx, s.db, sn)
}

func (s *Store) insertSnapshot(ctx context.Context, q sqlExecer, sn *atlas.Snapshot) error {
	members, err := json.Marshal(nonNil(sn.Members))
	if err != nil {
		return fmt.Errorf("create snapshot %s: %w", sn.ID, err)
	}
	_, err = s.exec(ctx, q, `INSERT INTO snapshots (`+snapshotColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		sn.ID, sn.GroupID, sn.ClusterName, string(sn.Kind), string(sn.Status), sn.SnapshotType, sn.FrequencyType,
		sn.Description, sn.ReplicaSetName, string(members), sn.MongodVersion, sn.StorageSizeBytes, sn.Consistency,
		sn.FailureReason, millis(sn.CreatedAt), millis(sn.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create snapshot %s: %w", sn.ID, err)
	}
	return nil
}

// GetSnapshot returns one snapshot of a cluster.
func (s *Store) GetSnapshot(ctx context.Context, groupID, cluster, id string) (*atlas.Snapshot, error) {
	row := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotReadColumns+` FROM snapshots WHERE group_id = ? AND cluster_name = ? AND id = ?`), groupID, cluster, id)
	sn, err := scanSnapshot(row)
	if err != nil {
		return nil, fmt.Errorf("get snapshot %s: %w", id, err)
	}
	return sn, nil
}

// ListSnapshots returns one page of a cluster's snapshots of one kind,
// newest first, and the total count.
func (s *Store) ListSnapshots(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, p atlas.Page) ([]*atlas.Snapshot, int, error) {
	return listPage(ctx, s, "snapshots", snapshotReadColumns, "snapshots", "group_id = ? AND cluster_name = ? AND kind = ?",
		"created_at DESC, id DESC", p, scanSnapshot, groupID, cluster, string(kind))
}

// UpdateSnapshot applies fn to a snapshot inside a transaction and saves it.
func (s *Store) UpdateSnapshot(ctx context.Context, id string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error) {
	return s.updateSnapshot(ctx, id, nil, fn)
}

// UpdateSnapshotAs is UpdateSnapshot fenced by the lease: it fails with
// ErrLeaseLost unless owner holds the snapshot job's lease.
func (s *Store) UpdateSnapshotAs(ctx context.Context, id, owner string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error) {
	return s.updateSnapshot(ctx, id, &owner, fn)
}

func (s *Store) updateSnapshot(ctx context.Context, id string, owner *string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error) {
	var out *atlas.Snapshot
	err := s.tx(ctx, func(tx *sql.Tx) error {
		sn, err := scanSnapshot(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotReadColumns+` FROM snapshots WHERE id = ?`+s.d.forUpdate), id))
		if err != nil {
			return err
		}
		if owner != nil {
			if err := s.leaseHolder(ctx, tx, SnapshotJobs, id, *owner); err != nil {
				return err
			}
		}
		if err := fn(sn); err != nil {
			return err
		}
		members, err := json.Marshal(nonNil(sn.Members))
		if err != nil {
			return err
		}
		progress, err := progressJSON(sn.Progress)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE snapshots SET status = ?, description = ?, members = ?, mongod_version = ?, storage_size_bytes = ?, consistency = ?, failure_reason = ?, created_at = ?, expires_at = ?, progress = ? WHERE id = ?`,
			string(sn.Status), sn.Description, string(members), sn.MongodVersion, sn.StorageSizeBytes, sn.Consistency, sn.FailureReason, millis(sn.CreatedAt), millis(sn.ExpiresAt), progress, id)
		out = sn
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update snapshot %s: %w", id, err)
	}
	return out, nil
}

// DeleteSnapshot removes a snapshot row.
func (s *Store) DeleteSnapshot(ctx context.Context, groupID, cluster, id string) error {
	res, err := s.exec(ctx, s.db, `DELETE FROM snapshots WHERE group_id = ? AND cluster_name = ? AND id = ?`, groupID, cluster, id)
	if err != nil {
		return fmt.Errorf("delete snapshot %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete snapshot %s: %w", id, ErrNotFound)
	}
	return nil
}

func scanSnapshot(r scanner) (*atlas.Snapshot, error) {
	var sn atlas.Snapshot
	var kind, status, members, progress string
	var created, expires, retryAt int64
	err := r.Scan(&sn.ID, &sn.GroupID, &sn.ClusterName, &kind, &status, &sn.SnapshotType, &sn.FrequencyType, &sn.Description,
		&sn.ReplicaSetName, &members, &sn.MongodVersion, &sn.StorageSizeBytes, &sn.Consistency, &sn.FailureReason, &created, &expires,
		&progress, &sn.Attempts.Count, &sn.Attempts.LastError, &retryAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(members), &sn.Members); err != nil {
		return nil, fmt.Errorf("snapshot %s members: %w", sn.ID, err)
	}
	if err := scanProgress(progress, &sn.Progress); err != nil {
		return nil, fmt.Errorf("snapshot %s progress: %w", sn.ID, err)
	}
	if retryAt != 0 {
		sn.Attempts.RetryAt = fromMillis(retryAt)
	}
	sn.Kind, sn.Status = atlas.SnapshotKind(kind), atlas.SnapshotStatus(status)
	sn.CreatedAt, sn.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &sn, nil
}

// nonNil makes JSON columns hold [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// progressJSON is the progress column's text: empty for no progress yet.
func progressJSON(p atlas.JobProgress) (string, error) {
	if p.IsZero() {
		return "", nil
	}
	return jsonText(p)
}

// scanProgress reads the progress column into p.
func scanProgress(text string, p *atlas.JobProgress) error {
	if text == "" {
		return nil
	}
	return json.Unmarshal([]byte(text), p)
}
