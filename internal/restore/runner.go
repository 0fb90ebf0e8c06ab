package restore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"
)

// runner is one Run's working state.
type runner struct {
	e                     *Engine
	o                     Options
	run                   string
	state                 *State // as loaded at the start
	resumed               bool
	batchDocs, batchBytes int
	slots                 chan struct{} // data files loading at once
	docs, bytes           atomic.Int64  // loaded by this run, for progress logs
}

// restoreNamespace creates p's collection, loads its data files and builds
// its indexes, recording each step.
func (r *runner) restoreNamespace(ctx context.Context, p *planned) error {
	rec, ok := r.state.Namespaces[p.ns.Name()]
	if ok && rec.Phase == PhaseIndexed {
		return nil
	}
	db := r.e.Client.Database(p.tdb)
	coll := db.Collection(p.tcoll)
	var md Metadata
	if p.ns.Metadata != nil {
		md = *p.ns.Metadata
	}
	if !ok {
		if r.o.Drop {
			if err := coll.Drop(ctx); err != nil {
				return fmt.Errorf("drop %s: %w", p.target, err)
			}
		}
		if err := createCollection(ctx, db, p.tcoll, md.Options); err != nil {
			return fmt.Errorf("%s: %w", p.ns.Name(), err)
		}
		if r.o.Indexes == IndexesBefore {
			if _, err := buildIndexes(ctx, db, p.tcoll, md.Indexes); err != nil {
				return err
			}
		}
		pre, err := countDocuments(ctx, coll, 0, false)
		if err != nil {
			return err
		}
		rec = NamespaceRecord{Source: p.ns.Name(), Target: p.target, Phase: PhaseCreated, PreCount: pre}
		if err := r.saveNamespace(ctx, rec); err != nil {
			return err
		}
	}
	if rec.Phase != PhaseLoaded {
		if err := r.loadFiles(ctx, p); err != nil {
			if !errors.Is(err, context.Canceled) {
				rec.Phase, rec.Error = PhaseFailed, err.Error()
				_ = r.saveNamespace(ctx, rec)
			}
			return err
		}
		rec.Phase, rec.Error = PhaseLoaded, ""
		if err := r.saveNamespace(ctx, rec); err != nil {
			return err
		}
	}
	if r.o.Indexes == IndexesAfter {
		n, err := buildIndexes(ctx, db, p.tcoll, md.Indexes)
		if err != nil {
			return err
		}
		r.e.log().Debug("indexes built", "ns", p.target, "indexes", n)
	}
	rec.Phase = PhaseIndexed
	if err := r.saveNamespace(ctx, rec); err != nil {
		return err
	}
	r.e.log().Info("collection restored", "source", p.ns.Name(), "target", p.target, "files", len(p.ns.Files))
	return nil
}

// progressWriteTimeout bounds a progress write that outlives its run's
// context.
const progressWriteTimeout = 30 * time.Second

// saveNamespace records a namespace's phase even when the run is being
// stopped: a write abandoned on cancellation may still reach the server
// after the next run has recorded a later phase, and overwrite it with a
// stale one. Once the run's goroutines end, none of its writes is in
// flight (unless the server took longer than progressWriteTimeout).
func (r *runner) saveNamespace(ctx context.Context, rec NamespaceRecord) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressWriteTimeout)
	defer cancel()
	return r.e.Progress.SaveNamespace(sctx, r.run, rec)
}

// loadFiles loads p's data files, in parallel unless the collection is
// capped (whose documents must keep their order).
func (r *runner) loadFiles(ctx context.Context, p *planned) error {
	capped := false
	if p.ns.Metadata != nil && p.ns.Metadata.Options != nil {
		capped, _ = p.ns.Metadata.Options.Lookup("capped").BooleanOK()
	}
	g, gctx := errgroup.WithContext(ctx)
	if capped {
		g.SetLimit(1)
	}
	for _, f := range p.ns.Files {
		fr := r.state.Files[f.Key]
		if fr.Done {
			continue
		}
		g.Go(func() error {
			select {
			case r.slots <- struct{}{}:
			case <-gctx.Done():
				return gctx.Err()
			}
			defer func() { <-r.slots }()
			return r.loadFile(gctx, p, f, fr)
		})
	}
	return g.Wait()
}

// loadFile streams one data file into the target from the recorded
// position: a reader goroutine parses the next batch while the previous
// one is written, and a batch is sent only after its predecessor is
// recorded, so at most one batch is ever written but not recorded.
func (r *runner) loadFile(ctx context.Context, p *planned, f DataFile, fr FileRecord) error {
	fr.Key, fr.Namespace = f.Key, p.ns.Name()
	st, err := openStream(ctx, r.e.Source, f.Key)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.skip(fr.Docs); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan *batch, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		for {
			b, err := st.nextBatch(r.batchDocs, r.batchBytes)
			if err != nil {
				if err != io.EOF {
					readErr <- err
				}
				return
			}
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	coll := r.e.Client.Database(p.tdb).Collection(p.tcoll)
	// The first batch of a resumed run may have been written before the
	// interruption without being recorded.
	uncertain := r.resumed
	for b := range batches {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := r.insertRetrying(ctx, coll, f.Key, b, uncertain)
		if err != nil {
			return err
		}
		if res.rewritten > 0 {
			r.e.log().Info("documents written by the interrupted run found in place", "file", f.Key, "line", b.lines[0], "documents", res.rewritten)
		}
		uncertain = false
		r.docs.Add(int64(len(b.docs)))
		r.bytes.Add(int64(b.bytes))
		fr.Docs = b.first + int64(len(b.docs))
		fr.Duplicates += res.duplicates
		// A written batch is recorded even when the restore is being
		// stopped, so that the next run has less to check.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressWriteTimeout)
		err = r.retryTransient(sctx, "record progress of "+f.Key, func(bool) error { return r.e.Progress.SaveFile(sctx, r.run, fr) })
		cancel()
		if err != nil {
			return err
		}
		if r.e.AfterBatch != nil {
			r.e.AfterBatch(f.Key, fr.Docs)
		}
	}
	select {
	case err := <-readErr:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fr.Done = true
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), progressWriteTimeout)
	defer cancel()
	if err := r.e.Progress.SaveFile(sctx, r.run, fr); err != nil {
		return err
	}
	return nil
}

// logProgress logs the documents loaded so far every interval until ctx
// ends.
func (r *runner) logProgress(ctx context.Context, interval time.Duration) {
	start := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			secs := time.Since(start).Seconds()
			r.e.log().Info("restoring", "documents", r.docs.Load(), "MiB", r.bytes.Load()>>20,
				"docsPerSecond", int64(float64(r.docs.Load())/secs), "MBPerSecond", float64(r.bytes.Load())/1e6/secs)
		}
	}
}

// transientRetries is how many times a write to the target is tried
// again after a network error or timeout before the restore fails.
const transientRetries = 4

// retryTransient runs fn until it succeeds, fails otherwise than
// transiently, or has failed transientRetries+1 times, waiting longer
// after each failure. fn learns whether an earlier attempt failed.
func (r *runner) retryTransient(ctx context.Context, what string, fn func(retry bool) error) error {
	delay := 250 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := fn(attempt > 0)
		if err == nil || attempt == transientRetries || ctx.Err() != nil || !(mongo.IsNetworkError(err) || mongo.IsTimeout(err)) {
			return err
		}
		r.e.log().Warn("write to the target failed; trying again", "what", what, "attempt", attempt+1, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay *= 2
	}
}

// insertRetrying writes a batch, sending it again after transient errors
// in uncertain mode: the failed attempt may have written some or all of it.
func (r *runner) insertRetrying(ctx context.Context, coll *mongo.Collection, key string, b *batch, uncertain bool) (insertResult, error) {
	var res insertResult
	err := r.retryTransient(ctx, fmt.Sprintf("insert %s from line %d", key, b.lines[0]), func(retry bool) error {
		var err error
		res, err = insertBatch(ctx, coll, key, b, r.o.Duplicates, uncertain || retry)
		return err
	})
	return res, err
}
