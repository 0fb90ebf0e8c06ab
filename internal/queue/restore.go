package queue

import (
	"context"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/snapex/snapex/internal/store"
)

// RestoreArgs is the queue job that runs one restore job.
type RestoreArgs struct {
	ID string `json:"restore_job_id"`
}

// Kind implements river.JobArgs.
func (RestoreArgs) Kind() string { return "snapex_restore" }

// JobID names the restore job.
func (a RestoreArgs) JobID() string { return a.ID }

// EnqueueRestoreTx schedules a restore job inside the transaction creating it.
func (q *Queue) EnqueueRestoreTx(ctx context.Context, tx store.Tx, jobID string) error {
	if err := q.insertTx(ctx, tx, RestoreArgs{ID: jobID}, &river.InsertOpts{Queue: QueueName}); err != nil {
		return fmt.Errorf("enqueue restore %s: %w", jobID, err)
	}
	return nil
}
