// Package storerepo backs service.Repository with *store.Store: it adds
// the queue hooks that must run in the transaction creating a job or a
// snapshot, and translates the store's errors into the service's, so that
// package service (and the HTTP layer above it) never imports the store.
package storerepo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/store"
)

// Repo is a service.Repository over a store.
type Repo struct {
	Store *store.Store
	// EnqueueExport, when set, runs in the transaction creating an export
	// job and schedules its processing.
	EnqueueExport func(job *atlas.ExportJob) store.InTx
	// EnqueueSnapshot, when set, runs in the transaction creating an
	// on-demand snapshot and schedules taking it.
	EnqueueSnapshot func(sn *atlas.Snapshot) store.InTx
}

var _ service.Repository = (*Repo)(nil)

// translations pairs each store error with the service error it means.
var translations = []struct{ from, to error }{
	{store.ErrNotFound, service.ErrNotFound},
	{store.ErrActiveExport, service.ErrActiveExport},
	{store.ErrBucketInUse, service.ErrBucketInUse},
	{store.ErrPrefixTaken, service.ErrPrefixTaken},
	{store.ErrUnfinishedSnapshot, service.ErrUnfinishedSnapshot},
}

// tr keeps err's chain and adds the service error it means, if any.
func tr(err error) error {
	if err == nil {
		return nil
	}
	for _, t := range translations {
		if errors.Is(err, t.from) {
			return fmt.Errorf("%w: %w", t.to, err)
		}
	}
	return err
}

// CreateBucket implements service.Buckets.
func (r *Repo) CreateBucket(ctx context.Context, b *atlas.ExportBucket) error {
	return tr(r.Store.CreateBucket(ctx, b))
}

// GetBucket implements service.Buckets.
func (r *Repo) GetBucket(ctx context.Context, groupID, id string) (*atlas.ExportBucket, error) {
	b, err := r.Store.GetBucket(ctx, groupID, id)
	return b, tr(err)
}

// ListBuckets implements service.Buckets.
func (r *Repo) ListBuckets(ctx context.Context, groupID string, provider atlas.Provider, p atlas.Page) ([]*atlas.ExportBucket, int, error) {
	out, total, err := r.Store.ListBuckets(ctx, groupID, provider, p)
	return out, total, tr(err)
}

// SetBucketPrivateNetworking implements service.Buckets.
func (r *Repo) SetBucketPrivateNetworking(ctx context.Context, groupID, id string, v bool) (*atlas.ExportBucket, error) {
	b, err := r.Store.SetBucketPrivateNetworking(ctx, groupID, id, v)
	return b, tr(err)
}

// DeleteBucket implements service.Buckets.
func (r *Repo) DeleteBucket(ctx context.Context, groupID, id string) error {
	return tr(r.Store.DeleteBucket(ctx, groupID, id))
}

// GetSnapshot implements service.Snapshots.
func (r *Repo) GetSnapshot(ctx context.Context, groupID, cluster, id string) (*atlas.Snapshot, error) {
	sn, err := r.Store.GetSnapshot(ctx, groupID, cluster, id)
	return sn, tr(err)
}

// ListSnapshots implements service.Snapshots.
func (r *Repo) ListSnapshots(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, p atlas.Page) ([]*atlas.Snapshot, int, error) {
	out, total, err := r.Store.ListSnapshots(ctx, groupID, cluster, kind, p)
	return out, total, tr(err)
}

// CreateQueuedSnapshot implements service.Snapshots.
func (r *Repo) CreateQueuedSnapshot(ctx context.Context, sn *atlas.Snapshot, retentionDays int, queuedAt time.Time) error {
	var enqueue store.InTx
	if r.EnqueueSnapshot != nil {
		enqueue = r.EnqueueSnapshot(sn)
	}
	return tr(r.Store.CreateQueuedSnapshot(ctx, sn, retentionDays, queuedAt, enqueue))
}

// UpdateSnapshot implements service.Snapshots.
func (r *Repo) UpdateSnapshot(ctx context.Context, id string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error) {
	sn, err := r.Store.UpdateSnapshot(ctx, id, fn)
	return sn, tr(err)
}

// DeleteSnapshot implements service.Snapshots.
func (r *Repo) DeleteSnapshot(ctx context.Context, groupID, cluster, id string) error {
	return tr(r.Store.DeleteSnapshot(ctx, groupID, cluster, id))
}

// ExpiredSnapshots implements service.Snapshots.
func (r *Repo) ExpiredSnapshots(ctx context.Context, now time.Time) ([]*atlas.Snapshot, error) {
	out, err := r.Store.ExpiredSnapshots(ctx, now)
	return out, tr(err)
}

// CreateExportJob implements service.ExportJobs.
func (r *Repo) CreateExportJob(ctx context.Context, j *atlas.ExportJob) error {
	var enqueue store.InTx
	if r.EnqueueExport != nil {
		enqueue = r.EnqueueExport(j)
	}
	return tr(r.Store.CreateExportJob(ctx, j, enqueue))
}

// GetExportJob implements service.ExportJobs.
func (r *Repo) GetExportJob(ctx context.Context, groupID, cluster, id string) (*atlas.ExportJob, error) {
	j, err := r.Store.GetExportJob(ctx, groupID, cluster, id)
	return j, tr(err)
}

// ListExportJobs implements service.ExportJobs.
func (r *Repo) ListExportJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.ExportJob, int, error) {
	out, total, err := r.Store.ListExportJobs(ctx, groupID, cluster, p)
	return out, total, tr(err)
}

// ActiveExportJobsForSnapshot implements service.ExportJobs.
func (r *Repo) ActiveExportJobsForSnapshot(ctx context.Context, snapshotID string) ([]string, error) {
	ids, err := r.Store.ActiveExportJobsForSnapshot(ctx, snapshotID)
	return ids, tr(err)
}

// RequestExportCancel implements service.ExportJobs.
func (r *Repo) RequestExportCancel(ctx context.Context, id string, now time.Time) error {
	_, err := r.Store.RequestExportCancel(ctx, id, now)
	return tr(err)
}
