package taker

import (
	"context"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/capture"
	"github.com/snapex/snapex/internal/jobs"
)

// publishEvery is how often a running capture's counts are written to its
// snapshot, where the API and the status page read them.
const publishEvery = time.Second

// publishProgress writes p's counts to the snapshot every publishEvery
// until the returned stop is called.
func (t *Taker) publishProgress(ctx context.Context, a *jobs.Attempt, p *capture.Progress) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(publishEvery)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				t.publish(ctx, a, p)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// publish writes p's counts to the snapshot, never below what it shows
// (an earlier attempt may have read more before it failed). A failed
// write is left to the next one: the counts are informational.
func (t *Taker) publish(ctx context.Context, a *jobs.Attempt, p *capture.Progress) {
	_, err := t.Store.UpdateSnapshotAs(ctx, a.ID, a.Owner, func(s *atlas.Snapshot) error {
		s.Progress.Documents = max(s.Progress.Documents, p.Documents.Load())
		s.Progress.Bytes = max(s.Progress.Bytes, p.Bytes.Load())
		s.Progress.Collections = max(s.Progress.Collections, int(p.Collections.Load()))
		s.Progress.CollectionsTotal = max(s.Progress.CollectionsTotal, int(p.CollectionsTotal.Load()))
		s.Progress.UpdatedAt = a.Now().UTC()
		return nil
	})
	if err != nil && ctx.Err() == nil {
		t.log().Debug("snapshot progress not published", "snapshot", a.ID, "err", err)
	}
}
