package export

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/store"
)

// progressLog records finished data files in batches: one Sync of the
// destination and one transaction for many files, instead of an fsync and
// a transaction each, which is what a job of thousands of small
// collections would otherwise spend most of its time on. A crash loses at
// most the unrecorded batch; those files are written again under the same
// keys on resume, so the export stays exactly once.
type progressLog struct {
	e     *Engine
	dest  blob.Bucket
	jobID string
	// recorded, when set, is told of every batch once it is recorded.
	recorded func(ctx context.Context, batch []store.Progress) error

	mu      sync.Mutex
	pending []store.Progress
	last    time.Time // of the last flush; zero makes the first add flush at once

	flushing sync.Mutex // one flush at a time, in order
}

// Batches end after progressBatchUnits records or progressBatchEvery,
// whichever comes first.
const (
	progressBatchUnits = 512
	progressBatchEvery = 250 * time.Millisecond
)

func newProgressLog(e *Engine, dest blob.Bucket, jobID string, recorded func(context.Context, []store.Progress) error) *progressLog {
	return &progressLog{e: e, dest: dest, jobID: jobID, recorded: recorded}
}

// add queues p, whose data files have been written, and records the
// batch when it is due.
func (l *progressLog) add(ctx context.Context, p store.Progress) error {
	l.mu.Lock()
	l.pending = append(l.pending, p)
	due := len(l.pending) >= progressBatchUnits || time.Since(l.last) >= progressBatchEvery
	l.mu.Unlock()
	if !due {
		return nil
	}
	return l.flush(ctx)
}

// flush makes the queued files durable and records their progress.
func (l *progressLog) flush(ctx context.Context) error {
	l.flushing.Lock()
	defer l.flushing.Unlock()
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
	if err := l.e.Store.SaveExportProgress(ctx, l.jobID, l.e.Owner, batch...); err != nil {
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
