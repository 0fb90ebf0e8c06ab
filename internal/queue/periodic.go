package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// ScheduleQueueName is the River queue scheduling passes run on, apart
// from exports and snapshots so a pass never waits behind hours-long
// exports occupying every worker.
const ScheduleQueueName = "snapex_schedule"

// ScheduleTickArgs is the periodic job that runs one scheduling pass.
type ScheduleTickArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleTickArgs) Kind() string { return "snapex_schedule_tick" }

// SchedulePeriodicJob is the River periodic job that runs a scheduling
// pass every interval (and once at start). River enqueues periodic jobs
// only on its elected leader, so across replicas one pass is enqueued per
// interval; the pass itself is also safe to run twice (the store admits
// one snapshot per slot), which covers a leadership hand-over.
func SchedulePeriodicJob(interval time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return ScheduleTickArgs{}, &river.InsertOpts{Queue: ScheduleQueueName, MaxAttempts: 1}
		},
		&river.PeriodicJobOpts{RunOnStart: true})
}

// ScheduleWorker runs scheduling passes.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleTickArgs]
	// Pass runs one scheduling pass.
	Pass func(ctx context.Context) error
	// PassTimeout bounds one pass (default 5 minutes).
	PassTimeout time.Duration
}

// Work implements river.Worker.
func (w *ScheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleTickArgs]) error {
	if err := w.Pass(ctx); err != nil {
		return fmt.Errorf("scheduling pass: %w", err)
	}
	return nil
}

// Timeout implements river.Worker: a pass is short, unlike the queue's
// unbounded default for exports.
func (w *ScheduleWorker) Timeout(*river.Job[ScheduleTickArgs]) time.Duration {
	if w.PassTimeout > 0 {
		return w.PassTimeout
	}
	return 5 * time.Minute
}
