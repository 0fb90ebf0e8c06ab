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
	"fmt"
	"log/slog"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// Engine does the work of export jobs; the job runner leases, counts,
// retries and finishes them.
type Engine struct {
	Store        *store.Store
	Catalog      Catalog
	Destinations Destinations
	// Snapshots is where snapshots are stored.
	Snapshots snapshot.Storage
	// Runner runs the jobs; its owner fences every update and its clock
	// dates them.
	Runner *jobs.Runner
	// ChunkBytes is the BSON input per data file.
	ChunkBytes int64
	// Parallelism is how many collections of one job export at once.
	Parallelism int
	// GzipLevel is the compression level.
	GzipLevel int
	// Formats are the output formats other than Extended JSON, by
	// snapexOptions.format (e.g. "parquet").
	Formats map[string]format.Format
	Log     *slog.Logger
	// AfterChunk, when set, observes every data file once it is durable
	// and its progress recorded, which happens in batches (metrics; tests
	// use it to pace a job).
	AfterChunk func(jobID string, p store.Progress)
	// Moved, when set, is told of the documents and BSON bytes each
	// progress publication adds (metrics).
	Moved func(docs, bytes int64)
}

// ErrLeaseHeld means another live worker holds the job.
var ErrLeaseHeld = jobs.ErrLeaseHeld

// Kind is the export job kind for the runner.
func (e *Engine) Kind() *jobs.Kind {
	return &jobs.Kind{
		Table: store.ExportJobs,
		Work:  e.work,
		Retryable: func(err error) bool {
			return failureReason(err).retry
		},
		Fail: func(ctx context.Context, a *jobs.Attempt, err error) error {
			r := failureReason(err)
			return e.finish(ctx, a, atlas.ExportFailed, &atlas.StateReason{ErrorCode: r.code, Message: r.message})
		},
		Cancel: func(ctx context.Context, a *jobs.Attempt) error {
			return e.cancelled(ctx, a)
		},
		Code: func(err error) string { return failureReason(err).code },
	}
}

// Run makes one attempt at export job id (see jobs.Runner.RunAttempt):
// nil once the job is terminal, ErrLeaseHeld while another worker holds
// it, or the error of a failed attempt to retry (final=true turns a
// retryable failure into Failed).
func (e *Engine) Run(ctx context.Context, id string, final bool) error {
	return e.Runner.RunAttempt(ctx, e.Kind(), id, final)
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// work exports the job and records it Successful.
func (e *Engine) work(ctx context.Context, a *jobs.Attempt) error {
	job, err := e.Store.ExportJobByID(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("export %s: %w", a.ID, err)
	}
	if err := e.export(ctx, job); err != nil {
		return err
	}
	return e.finish(ctx, a, atlas.ExportSuccessful, nil)
}

// cancelled ends the job Cancelled with the reason its cancel was
// requested for.
func (e *Engine) cancelled(ctx context.Context, a *jobs.Attempt) error {
	reason := atlas.CancelledByUser()
	if j, err := e.Store.ExportJobByID(ctx, a.ID); err == nil && j.CancelReason != nil {
		reason = *j.CancelReason
	}
	return e.finish(ctx, a, atlas.ExportCancelled, &reason)
}

// finish moves the job to a terminal state, fenced by the attempt's lease.
func (e *Engine) finish(ctx context.Context, a *jobs.Attempt, state atlas.ExportState, reason *atlas.StateReason) error {
	_, err := e.Store.UpdateExportJobAs(ctx, a.ID, a.Owner, func(j *atlas.ExportJob) error {
		j.State = state
		j.StateReason = reason
		now := a.Now()
		j.FinishedAt = &now
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish export %s as %s: %w", a.ID, state, err)
	}
	e.log().Info("export finished", "job", a.ID, "state", state, "attempt", a.Number)
	return nil
}
