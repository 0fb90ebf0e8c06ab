// Package storerepo backs service.Repository with *store.Store, adding the
// queue hooks that must run in the transaction creating an export job or a
// snapshot. Package service (and the HTTP layer above it) thereby never
// imports the store. The store reports missing rows and broken rules as
// atlas.Conflict values, which the service understands as they are.
package storerepo

import (
	"context"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/store"
)

// Repo is a service.Repository over a store: the store's own methods
// serve as they are, except the ones below.
type Repo struct {
	*store.Store
	// EnqueueExport, when set, runs in the transaction creating an export
	// job and schedules its processing.
	EnqueueExport func(job *atlas.ExportJob) store.InTx
	// EnqueueSnapshot, when set, runs in the transaction creating an
	// on-demand snapshot and schedules taking it.
	EnqueueSnapshot func(sn *atlas.Snapshot) store.InTx
}

var _ service.Repository = (*Repo)(nil)

// CreateQueuedSnapshot implements service.Snapshots.
func (r *Repo) CreateQueuedSnapshot(ctx context.Context, sn *atlas.Snapshot, retentionDays int, queuedAt time.Time) error {
	var enqueue store.InTx
	if r.EnqueueSnapshot != nil {
		enqueue = r.EnqueueSnapshot(sn)
	}
	return r.Store.CreateQueuedSnapshot(ctx, sn, retentionDays, queuedAt, enqueue)
}

// CreateExportJob implements service.ExportJobs.
func (r *Repo) CreateExportJob(ctx context.Context, j *atlas.ExportJob) error {
	var enqueue store.InTx
	if r.EnqueueExport != nil {
		enqueue = r.EnqueueExport(j)
	}
	return r.Store.CreateExportJob(ctx, j, enqueue)
}

// RequestExportCancel implements service.ExportJobs.
func (r *Repo) RequestExportCancel(ctx context.Context, id string, now time.Time, reason atlas.StateReason) error {
	_, err := r.Store.RequestExportCancelBecause(ctx, id, now, reason)
	return err
}

// CreateScheduledSnapshot implements service.Schedules.
func (r *Repo) CreateScheduledSnapshot(ctx context.Context, sn *atlas.Snapshot, meta atlas.ScheduledSnapshot, prevSlot time.Time, retentionDays int) error {
	var enqueue store.InTx
	if r.EnqueueSnapshot != nil {
		enqueue = r.EnqueueSnapshot(sn)
	}
	return r.Store.CreateScheduledSnapshot(ctx, sn, meta, prevSlot, retentionDays, enqueue)
}

// CreateAutoExportJob implements service.Schedules.
func (r *Repo) CreateAutoExportJob(ctx context.Context, j *atlas.ExportJob) error {
	var enqueue store.InTx
	if r.EnqueueExport != nil {
		enqueue = r.EnqueueExport(j)
	}
	return r.Store.CreateAutoExportJob(ctx, j, enqueue)
}
