package storerepo

import (
	"context"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/store"
)

// Restores is a service.RestoreJobs over a store.
type Restores struct {
	*store.Store
	// Enqueue, when set, runs in the transaction creating a restore job
	// and schedules its processing.
	Enqueue func(j *atlas.RestoreJob) store.InTx
}

var _ service.RestoreJobs = (*Restores)(nil)

// CreateRestoreJob implements service.RestoreJobs.
func (r *Restores) CreateRestoreJob(ctx context.Context, j *atlas.RestoreJob) error {
	var enqueue store.InTx
	if r.Enqueue != nil {
		enqueue = r.Enqueue(j)
	}
	return r.Store.CreateRestoreJob(ctx, j, enqueue)
}

// RequestRestoreCancel implements service.RestoreJobs.
func (r *Restores) RequestRestoreCancel(ctx context.Context, id string, now time.Time) error {
	_, err := r.Store.RequestRestoreCancel(ctx, id, now)
	return err
}
