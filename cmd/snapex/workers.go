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
	"github.com/snapex/snapex/internal/store"
)

// workers is the export machinery of one process: the engine, the River
// queue that dispatches to it, and the reaper that takes over jobs of dead
// workers.
type workers struct {
	engine *export.Engine
	queue  *queue.Queue
	reaper *export.Reaper
}

func newWorkers(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) (*workers, error) {
	snaps, err := export.OpenSnapshotStorage(ctx, cfg.SnapshotStorage)
	if err != nil {
		return nil, err
	}
	x := cfg.Exports
	lease := time.Duration(x.LeaseSeconds) * time.Second
	engine := &export.Engine{
		Store: st, Catalog: cfg.Catalog(), Snapshots: snaps, Owner: processOwner(), Log: log,
		Destinations: &export.Destinations{Catalog: cfg.Catalog(), PartSize: int64(x.PartMiB) << 20},
		LeaseTTL:     lease, ChunkBytes: int64(x.ChunkMiB) << 20, Parallelism: x.Parallelism, GzipLevel: x.GzipLevel,
	}
	concurrency := x.Concurrency
	if concurrency == 0 {
		concurrency = 2
	}
	ws := river.NewWorkers()
	river.AddWorker(ws, &export.Worker{Engine: engine})
	q, err := queue.Open(ctx, st, queue.Options{Workers: ws, Concurrency: concurrency, Log: log})
	if err != nil {
		return nil, err
	}
	interval := lease / 3
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &workers{engine: engine, queue: q, reaper: &export.Reaper{Engine: engine, Interval: interval, Slots: make(chan struct{}, concurrency)}}, nil
}

// processOwner names this process in export leases.
func processOwner() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
