package store

import (
	"context"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// ErrUnfinishedSnapshot means the cluster already has a queued or running
// on-demand snapshot.
var ErrUnfinishedSnapshot error = atlas.UnfinishedSnapshot

// CreateQueuedSnapshot inserts a queued on-demand snapshot with its
// retention and runs enqueue in the same transaction; a second unfinished
// on-demand snapshot of the cluster is ErrUnfinishedSnapshot.
func (s *Store) CreateQueuedSnapshot(ctx context.Context, sn *atlas.Snapshot, retentionDays int, queuedAt time.Time, enqueue InTx) error {
	err := s.hookTx(ctx, func(q querier, tx Tx) error {
		members, err := jsonText(nonNil(sn.Members))
		if err != nil {
			return err
		}
		err = q.exec(ctx, `INSERT INTO snapshots (`+snapshotColumns+`, retention_days, queued_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sn.ID, sn.GroupID, sn.ClusterName, string(sn.Kind), string(sn.Status), sn.SnapshotType, sn.FrequencyType,
			sn.Description, sn.ReplicaSetName, members, sn.MongodVersion, sn.StorageSizeBytes, sn.Consistency,
			sn.FailureReason, millis(sn.CreatedAt), millis(sn.ExpiresAt), retentionDays, millis(queuedAt))
		if isUniqueViolation(err) {
			return ErrUnfinishedSnapshot
		}
		if err != nil {
			return err
		}
		if enqueue != nil {
			return enqueue(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create snapshot %s: %w", sn.ID, err)
	}
	return nil
}

// SnapshotByID returns a snapshot and its retention in days.
func (s *Store) SnapshotByID(ctx context.Context, id string) (*atlas.Snapshot, int, error) {
	row := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+snapshotReadColumns+` FROM snapshots WHERE id = ?`), id)
	sn, err := scanSnapshot(row)
	if err != nil {
		return nil, 0, fmt.Errorf("get snapshot %s: %w", id, err)
	}
	var days int
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT retention_days FROM snapshots WHERE id = ?`), id).Scan(&days); err != nil {
		return nil, 0, fmt.Errorf("get snapshot %s: %w", id, err)
	}
	return sn, days, nil
}

// ExpiredSnapshots lists finished snapshots past their expiry.
func (s *Store) ExpiredSnapshots(ctx context.Context, now time.Time) ([]*atlas.Snapshot, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+snapshotReadColumns+` FROM snapshots
		WHERE status IN ('completed', 'failed') AND expires_at > 0 AND expires_at < ? ORDER BY expires_at LIMIT 100`), millis(now))
	if err != nil {
		return nil, fmt.Errorf("expired snapshots: %w", err)
	}
	defer rows.Close()
	var out []*atlas.Snapshot
	for rows.Next() {
		sn, err := scanSnapshot(rows)
		if err != nil {
			return nil, fmt.Errorf("expired snapshots: %w", err)
		}
		out = append(out, sn)
	}
	return out, rows.Err()
}

func (s *Store) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("query ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("query ids: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
