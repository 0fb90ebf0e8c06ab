package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// ErrLeaseLost means another worker now holds the job's lease; the caller
// must stop working on it.
var ErrLeaseLost = errors.New("store: export job lease lost")

// AcquireExportLease gives owner the job's lease until the given time when
// the job is active and its lease is free, expired or already owner's. It
// returns the job and whether the lease was acquired; a terminal job is
// returned with false.
func (s *Store) AcquireExportLease(ctx context.Context, id, owner string, now, until time.Time) (*atlas.ExportJob, bool, error) {
	res, err := s.exec(ctx, s.db, `UPDATE export_jobs SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND state IN ('Queued', 'InProgress') AND (lease_owner = '' OR lease_owner = ? OR lease_until < ?)`,
		owner, millis(until), id, owner, millis(now))
	if err != nil {
		return nil, false, fmt.Errorf("acquire lease on export job %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	j, err := s.ExportJobByID(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return j, n == 1, nil
}

// RenewExportLease extends owner's lease and reports whether cancellation
// was requested; ErrLeaseLost when owner no longer holds it.
func (s *Store) RenewExportLease(ctx context.Context, id, owner string, until time.Time) (cancel bool, err error) {
	res, err := s.exec(ctx, s.db, `UPDATE export_jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state IN ('Queued', 'InProgress')`,
		millis(until), id, owner)
	if err != nil {
		return false, fmt.Errorf("renew lease on export job %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("renew lease on export job %s: %w", id, ErrLeaseLost)
	}
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT cancel_requested FROM export_jobs WHERE id = ?`), id).Scan(&cancel); err != nil {
		return false, fmt.Errorf("renew lease on export job %s: %w", id, err)
	}
	return cancel, nil
}

// ReleaseExportLease gives up owner's lease (after a terminal state or a
// graceful stop) so another worker may resume at once.
func (s *Store) ReleaseExportLease(ctx context.Context, id, owner string) error {
	_, err := s.exec(ctx, s.db, `UPDATE export_jobs SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`, id, owner)
	if err != nil {
		return fmt.Errorf("release lease on export job %s: %w", id, err)
	}
	return nil
}

// ExpiredExportLeases lists active jobs whose worker stopped renewing its
// lease, and queued jobs nobody leased since before unclaimedBefore (their
// dispatch died with a process): another worker must take them over.
func (s *Store) ExpiredExportLeases(ctx context.Context, now, unclaimedBefore time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT id FROM export_jobs
		WHERE state IN ('Queued', 'InProgress') AND lease_until < ? AND (lease_owner <> '' OR created_at < ?)
		ORDER BY created_at`), millis(now), millis(unclaimedBefore))
	if err != nil {
		return nil, fmt.Errorf("expired export leases: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("expired export leases: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// UpdateExportJobAs is UpdateExportJob fenced by the lease: it fails with
// ErrLeaseLost unless owner holds the job's lease.
func (s *Store) UpdateExportJobAs(ctx context.Context, id, owner string, fn func(*atlas.ExportJob) error) (*atlas.ExportJob, error) {
	return s.updateExportJob(ctx, id, &owner, fn)
}

// RequestExportCancel cancels a job: a queued job nobody works on becomes
// Cancelled at once; a running one is flagged and its worker stops at the
// next chunk boundary. Terminal jobs are returned unchanged.
func (s *Store) RequestExportCancel(ctx context.Context, id string, now time.Time) (*atlas.ExportJob, error) {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, `UPDATE export_jobs SET cancel_requested = TRUE WHERE id = ? AND state IN ('Queued', 'InProgress')`, id)
		if err != nil {
			return err
		}
		_, err = s.exec(ctx, tx, `UPDATE export_jobs SET state = 'Cancelled', finished_at = ?, cancel_requested = TRUE
			WHERE id = ? AND state = 'Queued' AND (lease_owner = '' OR lease_until < ?)`, millis(now), id, millis(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cancel export job %s: %w", id, err)
	}
	return s.ExportJobByID(ctx, id)
}
