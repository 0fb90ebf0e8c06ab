package export

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/snapex/snapex/internal/queue"
)

// Worker runs export jobs dispatched by the queue.
type Worker struct {
	river.WorkerDefaults[queue.ExportArgs]
	Engine *Engine
}

// Work implements river.Worker. A job held by another live worker is
// snoozed; the last attempt turns a retryable failure into Failed.
func (w *Worker) Work(ctx context.Context, job *river.Job[queue.ExportArgs]) error {
	err := w.Engine.Run(ctx, job.Args.JobID, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, ErrLeaseHeld) {
		return river.JobSnooze(w.Engine.leaseTTL())
	}
	return err
}

// Timeout implements river.Worker: exports run as long as they need.
func (w *Worker) Timeout(*river.Job[queue.ExportArgs]) time.Duration { return -1 }

// Reaper takes over jobs whose worker died: every interval it looks for
// active jobs with an expired lease and runs them here. River would also
// re-dispatch them eventually, but only after its rescue delay; the lease
// makes recovery take seconds and keeps two workers off one job.
type Reaper struct {
	Engine   *Engine
	Interval time.Duration
	// Slots bounds how many taken-over jobs run at once in this process.
	Slots chan struct{}
}

// Run reaps until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		r.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reaper) once(ctx context.Context) {
	ids, err := r.Engine.Store.ExpiredExportLeases(ctx, r.Engine.now())
	if err != nil {
		r.Engine.log().Warn("look for abandoned exports", "err", err)
		return
	}
	for _, id := range ids {
		select {
		case r.Slots <- struct{}{}:
		default:
			return // busy; the next tick or another replica takes the rest
		}
		go func() {
			defer func() { <-r.Slots }()
			r.Engine.log().Info("taking over abandoned export", "job", id)
			if err := r.Engine.Run(ctx, id, false); err != nil && !errors.Is(err, ErrLeaseHeld) && ctx.Err() == nil {
				r.Engine.log().Warn("taken-over export attempt failed", "job", id, "err", err)
			}
		}()
	}
}
