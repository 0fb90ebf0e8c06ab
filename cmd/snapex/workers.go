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
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/metrics"
	"github.com/snapex/snapex/internal/parquetout"
	"github.com/snapex/snapex/internal/queue"
	"github.com/snapex/snapex/internal/restorejob"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/taker"
)

// workers is the background machinery of one process: the job runner
// with the export and snapshot kinds it works, the River queue that
// dispatches to it, and the reapers that take over jobs of dead workers.
type workers struct {
	runner  *jobs.Runner
	engine  *export.Engine
	taker   *taker.Taker
	restore *restorejob.Runner
	queue   *queue.Queue
	reapers []*jobs.Reaper
	expiry  time.Duration
	// svc runs scheduling passes; set by start before the queue runs.
	svc *service.Service
}

func newWorkers(ctx context.Context, cfg *config.Config, st *store.Store, ss *processStores, log *slog.Logger) (*workers, error) {
	snaps := ss.snaps
	x, sc := cfg.Exports, cfg.Snapshots
	runner := &jobs.Runner{
		Store: st, Owner: processOwner(), Clock: time.Now, LeaseTTL: x.LeaseTTL(), Log: log,
		Retry: jobs.Retry{MaxAttempts: x.MaxAttempts, Backoff: x.RetryBackoff(), MaxBackoff: x.RetryBackoffMax()},
	}
	engine := &export.Engine{
		Store: st, Catalog: cfg.Catalog(), Snapshots: snaps, Runner: runner, Log: log,
		Destinations: ss.dests,
		ChunkBytes:   int64(x.ChunkMiB) << 20, Parallelism: x.Parallelism, GzipLevel: x.GzipLevel,
		Formats: map[string]format.Format{atlas.FormatParquet: parquetout.Format{}},
	}
	tk := &taker.Taker{
		Store: st, Catalog: cfg.Catalog(), Snapshots: snaps, Log: log,
		ConnectTimeout: seconds(sc.ConnectTimeoutSeconds), ServerSelectionTimeout: seconds(sc.ServerSelectionTimeoutSeconds),
		OperationTimeout: seconds(sc.OperationTimeoutSeconds), Parallelism: sc.Parallelism, GzipLevel: sc.GzipLevel,
		Uncompressed: sc.Uncompressed,
	}
	rj := &restorejob.Runner{Store: st, Catalog: cfg.Catalog(), Destinations: ss.dests, Log: log}
	exportKind, snapshotKind, restoreKind := engine.Kind(), tk.Kind(), rj.Kind()
	w := &workers{runner: runner, engine: engine, taker: tk, restore: rj, expiry: seconds(sc.ExpiryCheckSeconds)}
	ws := river.NewWorkers()
	river.AddWorker(ws, &jobs.Worker[queue.ExportArgs]{Runner: runner, Kind: exportKind})
	river.AddWorker(ws, &jobs.Worker[queue.SnapshotArgs]{Runner: runner, Kind: snapshotKind})
	river.AddWorker(ws, &jobs.Worker[queue.RestoreArgs]{Runner: runner, Kind: restoreKind})
	var periodic []*river.PeriodicJob
	if !sc.SchedulingDisabled {
		river.AddWorker(ws, &queue.ScheduleWorker{Pass: func(ctx context.Context) error { return w.svc.RunSchedules(ctx) }})
		periodic = append(periodic, queue.SchedulePeriodicJob(seconds(sc.ScheduleCheckSeconds)))
	}
	q, err := queue.Open(ctx, st, queue.Options{Workers: ws, Concurrency: x.Concurrency, Log: riverLogger(log), PeriodicJobs: periodic, ID: riverID(runner.Owner)})
	if err != nil {
		return nil, err
	}
	w.queue = q
	// Reapers look every third of the lease; a queued job nobody leased
	// for two leases lost its dispatch with a process.
	slots := make(chan struct{}, x.Concurrency)
	for _, k := range []*jobs.Kind{exportKind, snapshotKind, restoreKind} {
		w.reapers = append(w.reapers, &jobs.Reaper{Runner: runner, Kind: k, Interval: runner.LeaseTTL / 3, Grace: 2 * runner.LeaseTTL, Slots: slots})
	}
	return w, nil
}

// start runs the queue, the reapers and the snapshot expiry loop until ctx ends.
func (w *workers) start(ctx context.Context, svc *service.Service, log *slog.Logger) error {
	w.svc = svc
	w.taker.OnCompleted = func(ctx context.Context, id string) {
		if err := svc.SnapshotCompleted(ctx, id); err != nil {
			log.Warn("after snapshot completion (the next scheduling pass retries)", "snapshot", id, "err", err)
		}
	}
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

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }

// processOwner names this process in leases.
func processOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// riverID is the process's River client id: its lease owner name, cut
// to River's 100-byte limit keeping the pid and random suffix.
func riverID(owner string) string {
	if len(owner) <= 100 {
		return owner
	}
	return owner[len(owner)-100:]
}

// observe reports the workers' jobs to m: attempts, failures and ends
// from the runner, documents and bytes from the export engine and the
// snapshot taker.
func (w *workers) observe(m *metrics.Jobs) {
	w.runner.Observer = m
	w.engine.Moved = func(docs, bytes int64) { m.Moved(store.ExportJobs.Name, docs, bytes) }
	w.taker.Moved = func(docs, bytes int64) { m.Moved(store.SnapshotJobs.Name, docs, bytes) }
}
