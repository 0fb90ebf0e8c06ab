// Package export moves a snapshot into a customer's bucket in Atlas's
// layout: every exportable collection as gzipped canonical Extended JSON,
// one document per line, in chunks <prefix>/<db>/<coll>/<rs>.<n>.json.gz,
// then each collection's metadata.json, then .complete last.
//
// Crash safety: a job is worked under a lease its worker renews; progress
// is recorded per collection after every chunk, so a successor (another
// replica, or this one after a restart) resumes at the next chunk and
// rewrites any chunk whose upload was not yet recorded under the same key
// with the same documents — every document lands exactly once and no stray
// object is left.
package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/queue"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// Engine runs export jobs.
type Engine struct {
	Store        *store.Store
	Catalog      Catalog
	Destinations Destinations
	// Snapshots is where snapshots are stored.
	Snapshots snapshot.Storage
	// Owner identifies this process in leases (host, pid, random).
	Owner string
	// LeaseTTL is how long a lease lasts without renewal (default 15s);
	// it bounds how long a dead worker's job waits for a successor.
	LeaseTTL time.Duration
	// ChunkBytes is the BSON input per data file (default 64 MiB).
	ChunkBytes int64
	// Parallelism is how many collections of one job export at once
	// (default 2).
	Parallelism int
	// GzipLevel is the compression level (default 1).
	GzipLevel int
	Log       *slog.Logger
	Now       func() time.Time
	// AfterChunk, when set, observes every data file once it is durable
	// and its progress recorded, which happens in batches (metrics; tests
	// use it to pace a job).
	AfterChunk func(jobID string, p store.Progress)
}

// ErrLeaseHeld means another live worker holds the job.
var ErrLeaseHeld = queue.ErrLeaseHeld

// errCancelRequested stops a job at the next chunk boundary.
var errCancelRequested = errors.New("export: cancellation requested")

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// LeaseTTLOrDefault is the lease length in effect.
func (e *Engine) LeaseTTLOrDefault() time.Duration { return e.leaseTTL() }

func (e *Engine) leaseTTL() time.Duration {
	if e.LeaseTTL > 0 {
		return e.LeaseTTL
	}
	return 15 * time.Second
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// Run works export job id to a terminal state, or returns an error the
// caller should retry (final=true turns a retryable failure into Failed).
// It returns ErrLeaseHeld when another worker is on the job, and nil when
// the job is already terminal.
func (e *Engine) Run(ctx context.Context, id string, final bool) error {
	now := e.now()
	job, acquired, err := e.Store.AcquireExportLease(ctx, id, e.Owner, now, now.Add(e.leaseTTL()))
	if err != nil {
		return fmt.Errorf("export %s: %w", id, err)
	}
	if job.State.Terminal() {
		return nil
	}
	if !acquired {
		return ErrLeaseHeld
	}
	workCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); e.heartbeat(workCtx, cancel, id) }()

	err = e.export(workCtx, job)
	cause := context.Cause(workCtx)
	cancel(nil)
	<-hbDone
	// Record the outcome on a context that survives the work context.
	rctx := context.WithoutCancel(ctx)
	switch {
	case errors.Is(cause, store.ErrLeaseLost) || errors.Is(err, store.ErrLeaseLost):
		e.log().Warn("export lease lost; another worker continues", "job", id)
		return nil
	case err == nil:
		return e.finish(rctx, id, atlas.ExportSuccessful, nil)
	case errors.Is(cause, errCancelRequested) || errors.Is(err, errCancelRequested):
		return e.finish(rctx, id, atlas.ExportCancelled, nil)
	case ctx.Err() != nil:
		// The process is stopping: leave the job to the next worker.
		_ = e.Store.ReleaseExportLease(rctx, id, e.Owner)
		return ctx.Err()
	}
	if cancelReq, rerr := e.Store.RenewExportLease(rctx, id, e.Owner, e.now().Add(e.leaseTTL())); rerr == nil && cancelReq {
		// A cancelled job's snapshot may vanish under it; that is the
		// cancellation, not a failure.
		return e.finish(rctx, id, atlas.ExportCancelled, nil)
	}
	reason := failureReason(err)
	if !reason.retry || final {
		e.log().Error("export failed", "job", id, "code", reason.code, "err", err)
		return e.finish(rctx, id, atlas.ExportFailed, &atlas.StateReason{ErrorCode: reason.code, Message: reason.message})
	}
	e.log().Warn("export attempt failed; will retry", "job", id, "err", err)
	_ = e.Store.ReleaseExportLease(rctx, id, e.Owner)
	return err
}

// heartbeat renews the lease every third of its lifetime; it cancels the
// work when the lease is lost or cancellation was requested.
func (e *Engine) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, id string) {
	t := time.NewTicker(e.leaseTTL() / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cancelReq, err := e.Store.RenewExportLease(ctx, id, e.Owner, e.now().Add(e.leaseTTL()))
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			cancel(store.ErrLeaseLost)
			return
		case err != nil:
			e.log().Warn("renew export lease", "job", id, "err", err)
		case cancelReq:
			cancel(errCancelRequested)
			return
		}
	}
}

// finish moves the job to a terminal state and frees its lease.
func (e *Engine) finish(ctx context.Context, id string, state atlas.ExportState, reason *atlas.StateReason) error {
	_, err := e.Store.UpdateExportJobAs(ctx, id, e.Owner, func(j *atlas.ExportJob) error {
		j.State = state
		j.StateReason = reason
		now := e.now()
		j.FinishedAt = &now
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish export %s as %s: %w", id, state, err)
	}
	if err := e.Store.ReleaseExportLease(ctx, id, e.Owner); err != nil {
		e.log().Warn("release export lease", "job", id, "err", err)
	}
	e.log().Info("export finished", "job", id, "state", state)
	return nil
}
