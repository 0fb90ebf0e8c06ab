package export

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
)

// progressLog records finished data files in batches: one Sync of the
// destination and one transaction for many files, instead of an fsync and
// a transaction each, which is what a job of thousands of small
// collections would otherwise spend most of its time on. A crash loses at
// most the unrecorded files (a batch or two); those are written again
// under the same keys on resume, so the export stays exactly once.
//
// A due batch is recorded in the background, so the exporter that queued
// the record does not wait for the destination's Sync: with one large
// collection that exporter is the whole pipeline, and a Sync that writes
// back the last quarter second of output stalled it.
type progressLog struct {
	e     *Engine
	ctx   context.Context // the job's: a background batch outlives the caller's
	dest  blob.Bucket
	jobID string
	// recorded, when set, is told of every batch once it is recorded.
	recorded func(ctx context.Context, batch []atlas.Progress) error

	mu      sync.Mutex
	pending []atlas.Progress
	last    time.Time // of the last flush; zero makes the first add flush at once
	err     error     // of the last background flush; sticky

	flushing sync.Mutex // one flush at a time, in order
}

// Batches end after progressBatchUnits records or progressBatchEvery,
// whichever comes first. Exporters wait for the batch in flight only when
// progressMaxPending records are queued behind it.
const (
	progressBatchUnits = 512
	progressBatchEvery = 250 * time.Millisecond
	progressMaxPending = 4 * progressBatchUnits
)

// newProgressLog returns the progress log of one run of job jobID; ctx is
// the run's context, under which background batches are recorded.
func newProgressLog(ctx context.Context, e *Engine, dest blob.Bucket, jobID string, recorded func(context.Context, []atlas.Progress) error) *progressLog {
	return &progressLog{e: e, ctx: ctx, dest: dest, jobID: jobID, recorded: recorded}
}

// add queues p, whose data files have been written, and starts recording
// the batch in the background when it is due. It reports the failure of
// an earlier background batch.
func (l *progressLog) add(ctx context.Context, p atlas.Progress) error {
	if err := l.failed(); err != nil {
		return err
	}
	l.mu.Lock()
	l.pending = append(l.pending, p)
	n := len(l.pending)
	due := n >= progressBatchUnits || time.Since(l.last) >= progressBatchEvery
	l.mu.Unlock()
	switch {
	case n >= progressMaxPending:
		// The batch in flight is slow: wait for it, then record ours.
		return l.flush(ctx)
	case due && l.flushing.TryLock():
		go func() {
			defer l.flushing.Unlock()
			if err := l.flushLocked(l.ctx); err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
			}
		}()
	}
	return nil
}

// flush waits for the batch in flight, then records everything queued. It
// reports the failure of an earlier background batch.
func (l *progressLog) flush(ctx context.Context) error {
	l.flushing.Lock()
	defer l.flushing.Unlock()
	if err := l.failed(); err != nil {
		return err
	}
	return l.flushLocked(ctx)
}

// failed returns the error of a background batch that failed, if one did.
func (l *progressLog) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// wait returns once no batch is being recorded; the run calls it before
// it ends, so no background batch outlives it.
func (l *progressLog) wait() {
	l.flushing.Lock()
	defer l.flushing.Unlock() // holding it was the point: no batch is in flight now
}

// flushLocked makes the queued files durable and records their progress;
// the caller holds l.flushing.
func (l *progressLog) flushLocked(ctx context.Context) error {
	l.mu.Lock()
	batch := l.pending
	l.pending, l.last = nil, time.Now()
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := l.dest.Sync(ctx); err != nil {
		return fmt.Errorf("make %d data files durable before recording them: %w", len(batch), err)
	}
	if err := l.e.Store.SaveExportProgress(ctx, l.jobID, l.e.Runner.Owner, batch...); err != nil {
		return err
	}
	if l.e.AfterChunk != nil {
		for _, p := range batch {
			l.e.AfterChunk(l.jobID, p)
		}
	}
	if l.recorded != nil {
		return l.recorded(ctx, batch)
	}
	return nil
}
