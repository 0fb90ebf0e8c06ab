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
var ErrLeaseLost = errors.New("store: job lease lost")

// JobKind maps one kind of leased job onto its table. Every leased table
// has the columns lease_owner, lease_until, attempts, retry_at and
// last_error (migrations 003, 005, 006); a new kind adds those columns and
// one JobKind value, and the lease API below works on it unchanged.
type JobKind struct {
	// Name names the kind in logs and errors.
	Name string
	// table holds the jobs; id is its primary key.
	table string
	// active is the SQL condition of an unfinished job.
	active string
	// queuedAt is the column with the time the job was queued.
	queuedAt string
	// state is the state column and queued its value for a queued job.
	state, queued string
	// cancel is the boolean column flagging a requested cancellation,
	// empty when the kind cannot be cancelled.
	cancel string
}

// The leased job kinds.
var (
	// ExportJobs are export jobs (export_jobs).
	ExportJobs = JobKind{Name: "export", table: "export_jobs", active: "state IN ('Queued', 'InProgress')",
		queuedAt: "created_at", cancel: "cancel_requested", state: "state", queued: "Queued"}
	// SnapshotJobs are on-demand snapshots being taken (snapshots).
	SnapshotJobs = JobKind{Name: "snapshot", table: "snapshots", active: "status IN ('queued', 'inProgress')",
		queuedAt: "queued_at", state: "status", queued: "queued"}
)

// Lease is what AcquireLease found on a job.
type Lease struct {
	// Acquired is true when the caller now holds the lease.
	Acquired bool
	// Active is false when the job is finished or gone: nothing to do.
	Active bool
	// Attempts is how many attempts were started so far.
	Attempts int
	// Until is when the current holder's lease expires.
	Until time.Time
	// RetryAt is when the next attempt is due (zero: now).
	RetryAt time.Time
}

// Attempts is atlas.Attempts, a job's attempt record.
type Attempts = atlas.Attempts

// AcquireLease gives owner the lease of job id until the given time when
// the job is unfinished, its lease is free or expired, and its next
// attempt is due. A lease already held by owner is not re-acquired: two
// runs in one process must not share a job. It returns what it found.
func (s *Store) AcquireLease(ctx context.Context, k JobKind, id, owner string, now, until time.Time) (Lease, error) {
	res, err := s.exec(ctx, s.db, `UPDATE `+k.table+` SET lease_owner = ?, lease_until = ?
		WHERE id = ? AND `+k.active+` AND (lease_owner = '' OR lease_until < ?) AND retry_at <= ?`,
		owner, millis(until), id, millis(now), millis(now))
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease on %s job %s: %w", k.Name, id, err)
	}
	n, _ := res.RowsAffected()
	var l Lease
	var active bool
	var leaseUntil, retryAt int64
	err = s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+k.active+`, attempts, lease_until, retry_at FROM `+k.table+` WHERE id = ?`), id).
		Scan(&active, &l.Attempts, &leaseUntil, &retryAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Lease{}, nil
	}
	if err != nil {
		return Lease{}, fmt.Errorf("acquire lease on %s job %s: %w", k.Name, id, err)
	}
	l.Acquired, l.Active, l.Until, l.RetryAt = n == 1, active, fromMillis(leaseUntil), fromMillis(retryAt)
	return l, nil
}

// BeginAttempt counts a new attempt of a job owner holds and returns its
// number; the wait for it is over, so its retry time is cleared.
func (s *Store) BeginAttempt(ctx context.Context, k JobKind, id, owner string) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, `UPDATE `+k.table+` SET attempts = attempts + 1, retry_at = 0
			WHERE id = ? AND lease_owner = ? AND `+k.active, id, owner)
		if err != nil {
			return err
		}
		if rows, _ := res.RowsAffected(); rows == 0 {
			return ErrLeaseLost
		}
		return tx.QueryRowContext(ctx, s.d.rebind(`SELECT attempts FROM `+k.table+` WHERE id = ?`), id).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("begin attempt of %s job %s: %w", k.Name, id, err)
	}
	return n, nil
}

// ScheduleRetry records a failed attempt's error and when the next attempt
// is due. owner keeps the lease; should it die meanwhile, a successor
// still waits until at.
func (s *Store) ScheduleRetry(ctx context.Context, k JobKind, id, owner string, at time.Time, lastErr string) error {
	res, err := s.exec(ctx, s.db, `UPDATE `+k.table+` SET retry_at = ?, last_error = ? WHERE id = ? AND lease_owner = ? AND `+k.active,
		millis(at), lastErr, id, owner)
	if err != nil {
		return fmt.Errorf("schedule retry of %s job %s: %w", k.Name, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("schedule retry of %s job %s: %w", k.Name, id, ErrLeaseLost)
	}
	return nil
}

// RenewLease extends owner's lease and reports whether cancellation was
// requested (always false for kinds without cancellation); ErrLeaseLost
// when owner no longer holds it.
func (s *Store) RenewLease(ctx context.Context, k JobKind, id, owner string, until time.Time) (cancel bool, err error) {
	res, err := s.exec(ctx, s.db, `UPDATE `+k.table+` SET lease_until = ? WHERE id = ? AND lease_owner = ? AND `+k.active,
		millis(until), id, owner)
	if err != nil {
		return false, fmt.Errorf("renew lease on %s job %s: %w", k.Name, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("renew lease on %s job %s: %w", k.Name, id, ErrLeaseLost)
	}
	if k.cancel == "" {
		return false, nil
	}
	if err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+k.cancel+` FROM `+k.table+` WHERE id = ?`), id).Scan(&cancel); err != nil {
		return false, fmt.Errorf("renew lease on %s job %s: %w", k.Name, id, err)
	}
	return cancel, nil
}

// ReleaseLease gives up owner's lease (after a terminal state or a
// graceful stop) so another worker may continue at once. handBack means
// the current attempt was interrupted, not failed: it is uncounted, so
// rolling restarts do not use up a job's attempts.
func (s *Store) ReleaseLease(ctx context.Context, k JobKind, id, owner string, handBack bool) error {
	set := `lease_owner = '', lease_until = 0`
	if handBack {
		set += `, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END`
	}
	_, err := s.exec(ctx, s.db, `UPDATE `+k.table+` SET `+set+` WHERE id = ? AND lease_owner = ?`, id, owner)
	if err != nil {
		return fmt.Errorf("release lease on %s job %s: %w", k.Name, id, err)
	}
	return nil
}

// ExpiredLeases lists unfinished jobs whose worker stopped renewing its
// lease, and jobs nobody leased although they were queued (or due for a
// retry) before unclaimedBefore: their dispatch died with a process.
// A job waiting for its retry is not abandoned and is never listed.
func (s *Store) ExpiredLeases(ctx context.Context, k JobKind, now, unclaimedBefore time.Time) ([]string, error) {
	ids, err := s.ids(ctx, `SELECT id FROM `+k.table+` WHERE `+k.active+` AND lease_until < ? AND retry_at <= ?
		AND (lease_owner <> '' OR (`+k.queuedAt+` < ? AND retry_at < ?)) ORDER BY `+k.queuedAt,
		millis(now), millis(now), millis(unclaimedBefore), millis(unclaimedBefore))
	if err != nil {
		return nil, fmt.Errorf("expired %s leases: %w", k.Name, err)
	}
	return ids, nil
}

// JobAttempts returns a job's attempt record.
func (s *Store) JobAttempts(ctx context.Context, k JobKind, id string) (Attempts, error) {
	var a Attempts
	var retryAt int64
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT attempts, last_error, retry_at FROM `+k.table+` WHERE id = ?`), id).
		Scan(&a.Count, &a.LastError, &retryAt)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("attempts of %s job %s: %w", k.Name, id, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("attempts of %s job %s: %w", k.Name, id, err)
	}
	a.RetryAt = fromMillis(retryAt)
	return a, nil
}

// leaseHolder fails with ErrLeaseLost unless owner holds the job's lease
// (ErrNotFound when the job is gone); it runs inside the transaction of a
// fenced update and locks the job's row until that transaction ends.
func (s *Store) leaseHolder(ctx context.Context, tx *sql.Tx, k JobKind, id, owner string) error {
	var holder string
	err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT lease_owner FROM `+k.table+` WHERE id = ?`+s.d.forUpdate), id).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if holder != owner {
		return ErrLeaseLost
	}
	return nil
}

// JobActive reports whether job id exists and is unfinished.
func (s *Store) JobActive(ctx context.Context, k JobKind, id string) (bool, error) {
	var active bool
	err := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+k.active+` FROM `+k.table+` WHERE id = ?`), id).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is %s job %s active: %w", k.Name, id, err)
	}
	return active, nil
}
