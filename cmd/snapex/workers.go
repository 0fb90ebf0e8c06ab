package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/queue"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/taker"
)

// workers is the background machinery of one process: the export engine
// and snapshot taker, the River queue that dispatches to them, and the
// reapers that take over jobs of dead workers.
type workers struct {
	engine  *export.Engine
	taker   *taker.Taker
	queue   *queue.Queue
	reapers []*queue.Reaper
	expiry  time.Duration
}

func newWorkers(ctx context.Context, cfg *config.Config, st *store.Store, ss *processStores, log *slog.Logger) (*workers, error) {
	x, sc := cfg.Exports, cfg.Snapshots
	snaps := ss.snaps
	owner := processOwner()
	lease := time.Duration(x.LeaseSeconds) * time.Second
	engine := &export.Engine{
		Store: st, Catalog: cfg.Catalog(), Snapshots: snaps, Owner: owner, Log: log,
		Destinations: ss.dests,
		LeaseTTL:     lease, ChunkBytes: int64(x.ChunkMiB) << 20, Parallelism: x.Parallelism, GzipLevel: x.GzipLevel,
	}
	tk := &taker.Taker{
		Store: st, Catalog: cfg.Catalog(), Snapshots: snaps, Owner: owner, LeaseTTL: lease, Log: log,
		ConnectTimeout: seconds(sc.ConnectTimeoutSeconds), ServerSelectionTimeout: seconds(sc.ServerSelectionTimeoutSeconds),
		OperationTimeout: seconds(sc.OperationTimeoutSeconds), Parallelism: sc.Parallelism, GzipLevel: sc.GzipLevel,
		Uncompressed: sc.Uncompressed,
	}
	concurrency := x.Concurrency
	if concurrency == 0 {
		concurrency = 2
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &export.Worker{Engine: engine})
	river.AddWorker(ws, &taker.Worker{Taker: tk})
	q, err := queue.Open(ctx, st, queue.Options{Workers: ws, Concurrency: concurrency, Log: log})
	if err != nil {
		return nil, err
	}
	interval := lease / 3
	if interval <= 0 {
		interval = 5 * time.Second
	}
	slots := make(chan struct{}, concurrency)
	w := &workers{engine: engine, taker: tk, queue: q, expiry: seconds(sc.ExpiryCheckSeconds)}
	w.reapers = []*queue.Reaper{
		{Name: "export", Find: unclaimedAfter(st.ExpiredExportLeases, 2*engine.LeaseTTLOrDefault()),
			Work: func(ctx context.Context, id string) error { return engine.Run(ctx, id, false) }, Interval: interval, Slots: slots, Log: log},
		{Name: "snapshot", Find: unclaimedAfter(st.ExpiredSnapshotLeases, 2*engine.LeaseTTLOrDefault()), Work: tk.Run,
			Interval: interval, Slots: slots, Log: log},
	}
	if w.expiry == 0 {
		w.expiry = time.Minute
	}
	return w, nil
}

// start runs the queue, the reapers and the snapshot expiry loop until ctx ends.
func (w *workers) start(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	if err := w.queue.Start(ctx); err != nil {
		return err
	}
	for _, r := range w.reapers {
		go r.Run(ctx)
	}
	go func() {
		t := time.NewTicker(w.expiry)
		defer t.Stop()
		for {
			if _, err := svc.ExpireSnapshots(ctx); err != nil && ctx.Err() == nil {
				log.Warn("delete expired snapshots", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// unclaimedAfter adapts a lease query to a Reaper: queued work nobody has
// leased for grace is considered orphaned too (its River dispatch died
// with a process and River's own rescue would take minutes).
func unclaimedAfter(find func(ctx context.Context, now, unclaimedBefore time.Time) ([]string, error), grace time.Duration) func(context.Context, time.Time) ([]string, error) {
	return func(ctx context.Context, now time.Time) ([]string, error) { return find(ctx, now, now.Add(-grace)) }
}

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// processOwner names this process in leases.
func processOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
