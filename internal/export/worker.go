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
