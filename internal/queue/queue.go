// Package queue runs River on snapex's own database (riversqlite on SQLite,
// riverpgxv5 on PostgreSQL) so that work is enqueued in the same
// transaction that creates the resource it processes.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/snapex/snapex/internal/store"
)

// ExportArgs is the queue job that runs one export job.
type ExportArgs struct {
	ID string `json:"job_id"`
}

// Kind implements river.JobArgs.
func (ExportArgs) Kind() string { return "snapex_export" }

// JobID names the export job.
func (a ExportArgs) JobID() string { return a.ID }

// SnapshotArgs is the queue job that takes one snapshot.
type SnapshotArgs struct {
	SnapshotID string `json:"snapshot_id"`
}

// Kind implements river.JobArgs.
func (SnapshotArgs) Kind() string { return "snapex_snapshot" }

// JobID names the snapshot being taken.
func (a SnapshotArgs) JobID() string { return a.SnapshotID }

// Options configure the queue.
type Options struct {
	// Workers registers the job workers; nil makes an insert-only queue.
	Workers *river.Workers
	// Concurrency is how many jobs this process works at once (required
	// with Workers).
	Concurrency int
	// RescueAfter is when River re-dispatches a job whose worker vanished
	// without a trace; the export lease recovers faster (default 10m).
	RescueAfter time.Duration
	// PollInterval is how often the workers look for jobs without being
	// told of one (default 200ms on either database). A job inserted
	// through the queue wakes the workers at once: River notifies them,
	// on PostgreSQL with LISTEN/NOTIFY and on SQLite through its
	// notification table, which its listener reads every 50ms. The poll
	// is the fallback (jobs whose retry comes due, notifications lost),
	// and it runs all the time, also while a job is being worked: on
	// SQLite each poll is a statement parsed anew, and at 50ms the polls
	// were about 5 % of the CPU of a job exporting thousands of small
	// collections.
	PollInterval time.Duration
	// PeriodicJobs are enqueued by the elected leader (scheduling passes,
	// worked on ScheduleQueueName by one worker per process).
	PeriodicJobs []*river.PeriodicJob
	// ID names this process to River (its leader record shows which
	// process enqueues the periodic jobs); at most 100 bytes, empty lets
	// River pick one.
	ID  string
	Log *slog.Logger
}

// Queue is a River client on the store's database.
type Queue struct {
	insertTx func(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error
	insert   func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error
	start    func(ctx context.Context) error
	stop     func(ctx context.Context) error
}

// Options.PollInterval's default, and River's minimum time between two
// fetches: lowered from River's 100ms so that a job notified right after
// a fetch (a server's first fetch at start-up, say) waits at most as long
// as the SQLite listener's own poll.
const (
	defaultPollInterval = 200 * time.Millisecond
	riverFetchCooldown  = 50 * time.Millisecond
)

// QueueName is the River queue snapex's jobs run on.
const QueueName = "snapex"

// Open migrates River's tables and creates the client.
func Open(ctx context.Context, st *store.Store, opts Options) (*Queue, error) {
	if opts.Workers != nil && opts.Concurrency <= 0 {
		return nil, errors.New("queue: workers need a concurrency")
	}
	if opts.RescueAfter <= 0 {
		opts.RescueAfter = 10 * time.Minute
	}
	pool := st.Pool()
	if opts.PollInterval <= 0 {
		opts.PollInterval = defaultPollInterval
	}
	cfg := &river.Config{
		Logger:               opts.Log,
		JobTimeout:           -1, // exports run as long as they need; leases guard them
		RescueStuckJobsAfter: opts.RescueAfter,
		FetchCooldown:        min(riverFetchCooldown, opts.PollInterval),
		FetchPollInterval:    opts.PollInterval,
		// Attempts are counted and bounded by the job runner; River
		// retries only a dispatch that failed to reach it (store errors).
		MaxAttempts: 5,
		ID:          opts.ID,
	}
	if opts.Workers != nil {
		cfg.Workers = opts.Workers
		cfg.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: opts.Concurrency}}
		if len(opts.PeriodicJobs) > 0 {
			cfg.Queues[ScheduleQueueName] = river.QueueConfig{MaxWorkers: 1}
			cfg.PeriodicJobs = opts.PeriodicJobs
		}
	}
	if pool != nil {
		return build(ctx, riverpgxv5.New(pool), cfg, func(tx store.Tx) any { return tx.PGX })
	}
	return build(ctx, riversqlite.New(st.DB()), cfg, func(tx store.Tx) any { return tx.SQL })
}

// build wires a River client over one driver; txOf picks the driver's
// transaction out of a store transaction.
func build[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], cfg *river.Config, txOf func(store.Tx) any) (*Queue, error) {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("river migrations: %w", err)
	}
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	q := &Queue{
		insertTx: func(ctx context.Context, tx store.Tx, args river.JobArgs, opts *river.InsertOpts) error {
			t, ok := txOf(tx).(TTx)
			if !ok {
				return errors.New("queue: transaction of the wrong engine")
			}
			_, err := client.InsertTx(ctx, t, args, opts)
			return err
		},
		insert: func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
			_, err := client.Insert(ctx, args, opts)
			return err
		},
		start: client.Start,
		stop:  client.Stop,
	}
	return q, nil
}

// EnqueueExportTx schedules an export job inside the transaction creating it.
func (q *Queue) EnqueueExportTx(ctx context.Context, tx store.Tx, jobID string) error {
	if err := q.insertTx(ctx, tx, ExportArgs{ID: jobID}, &river.InsertOpts{Queue: QueueName}); err != nil {
		return fmt.Errorf("enqueue export %s: %w", jobID, err)
	}
	return nil
}

// EnqueueSnapshotTx schedules taking a snapshot inside the transaction
// creating it.
func (q *Queue) EnqueueSnapshotTx(ctx context.Context, tx store.Tx, snapshotID string) error {
	if err := q.insertTx(ctx, tx, SnapshotArgs{SnapshotID: snapshotID}, &river.InsertOpts{Queue: QueueName}); err != nil {
		return fmt.Errorf("enqueue snapshot %s: %w", snapshotID, err)
	}
	return nil
}

// Start begins working jobs (only when workers were registered).
func (q *Queue) Start(ctx context.Context) error {
	if err := q.start(ctx); err != nil {
		return fmt.Errorf("start queue: %w", err)
	}
	return nil
}

// Stop waits for running jobs to return, up to ctx's deadline.
func (q *Queue) Stop(ctx context.Context) error {
	if err := q.stop(ctx); err != nil {
		return fmt.Errorf("stop queue: %w", err)
	}
	return nil
}
