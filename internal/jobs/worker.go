package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// Args are River job arguments naming one leased job.
type Args interface {
	river.JobArgs
	// JobID is the leased job's id.
	JobID() string
}

// Worker runs the leased jobs River dispatches: River carries a job to a
// process (and survives its crash); the runner counts, bounds and retries
// its attempts, so River's own retries only cover store failures.
type Worker[A Args] struct {
	river.WorkerDefaults[A]
	Runner *Runner
	Kind   *Kind
}

// Work implements river.Worker: a job another worker holds is snoozed
// until that worker's lease or scheduled retry is due.
func (w *Worker[A]) Work(ctx context.Context, job *river.Job[A]) error {
	res, err := w.Runner.Run(ctx, w.Kind, job.Args.JobID())
	if err != nil || res.Done {
		return err
	}
	return river.JobSnooze(max(res.Wait.Sub(w.Runner.now()), w.Runner.LeaseTTL/3))
}

// Timeout implements river.Worker: jobs run as long as they need; leases
// guard them.
func (w *Worker[A]) Timeout(*river.Job[A]) time.Duration { return -1 }
