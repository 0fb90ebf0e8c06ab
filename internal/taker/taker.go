// Package taker runs on-demand snapshot jobs: it reads a configured
// cluster through package capture into snapshot storage and moves the
// snapshot queued → inProgress → completed or failed, under a lease so a
// dead worker's snapshot is retaken by another process.
package taker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/capture"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/queue"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// Taker takes snapshots.
type Taker struct {
	Store     *store.Store
	Catalog   *config.Catalog
	Snapshots snapshot.Storage
	Owner     string
	// LeaseTTL bounds how long a dead worker's snapshot waits (default 15s).
	LeaseTTL time.Duration
	// Capture settings: timeouts, parallelism, compression.
	ConnectTimeout, ServerSelectionTimeout, OperationTimeout time.Duration
	Parallelism, GzipLevel                                   int
	Uncompressed                                             bool
	Log                                                      *slog.Logger
	// OnCompleted, when set, runs after a snapshot completes (scheduled
	// snapshots' retention and automatic export).
	OnCompleted func(ctx context.Context, snapshotID string)
}

func (t *Taker) leaseTTL() time.Duration {
	if t.LeaseTTL > 0 {
		return t.LeaseTTL
	}
	return 15 * time.Second
}

func (t *Taker) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// Run takes snapshot id to completed or failed. It returns
// queue.ErrLeaseHeld while another worker holds it, nil when it is
// already finished, and the context's error when the process stops.
func (t *Taker) Run(ctx context.Context, id string) error {
	now := time.Now().UTC()
	ok, err := t.Store.AcquireSnapshotLease(ctx, id, t.Owner, now, now.Add(t.leaseTTL()))
	if err != nil {
		return err
	}
	sn, days, err := t.Store.SnapshotByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if sn.Status == atlas.SnapshotCompleted || sn.Status == atlas.SnapshotFailed {
		return nil
	}
	if !ok {
		return queue.ErrLeaseHeld
	}
	workCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hb := make(chan struct{})
	go func() { defer close(hb); t.heartbeat(workCtx, cancel, id) }()
	m, err := t.capture(workCtx, sn)
	cancel(nil)
	<-hb
	rctx := context.WithoutCancel(ctx)
	defer t.Store.ReleaseSnapshotLease(rctx, id, t.Owner) //nolint:errcheck
	switch {
	case errors.Is(context.Cause(workCtx), store.ErrLeaseLost):
		return nil
	case err != nil && ctx.Err() != nil:
		return ctx.Err() // stopping: another worker retakes it
	case err != nil:
		t.log().Error("snapshot failed", "snapshot", id, "err", err)
		_, uerr := t.Store.UpdateSnapshot(rctx, id, func(s *atlas.Snapshot) error {
			s.Status, s.FailureReason = atlas.SnapshotFailed, err.Error()
			return nil
		})
		return uerr
	}
	_, err = t.Store.UpdateSnapshot(rctx, id, func(s *atlas.Snapshot) error {
		s.Status = atlas.SnapshotCompleted
		s.CreatedAt = m.CreatedAt.UTC()
		s.ExpiresAt = s.CreatedAt.Add(time.Duration(days) * 24 * time.Hour)
		s.MongodVersion = m.MongodVersion
		s.Consistency = string(m.Consistency.Guarantee)
		s.StorageSizeBytes = 0
		for _, rs := range m.ReplicaSets {
			for _, c := range rs.Collections {
				s.StorageSizeBytes += c.CompressedBytes
			}
		}
		return nil
	})
	if err == nil {
		t.log().Info("snapshot completed", "snapshot", id, "consistency", m.Consistency.Guarantee)
		if t.OnCompleted != nil {
			t.OnCompleted(rctx, id)
		}
	}
	return err
}

// capture reads the cluster; a manifest left by an attempt that finished
// capturing but died before recording it is reused.
func (t *Taker) capture(ctx context.Context, sn *atlas.Snapshot) (*snapshot.Manifest, error) {
	cluster, ok := t.Catalog.Cluster(sn.GroupID, sn.ClusterName)
	if !ok {
		return nil, fmt.Errorf("cluster %s is no longer configured", sn.ClusterName)
	}
	if _, err := t.Store.UpdateSnapshot(ctx, sn.ID, func(s *atlas.Snapshot) error {
		s.Status = atlas.SnapshotInProgress
		return nil
	}); err != nil {
		return nil, err
	}
	opts := capture.Options{
		SnapshotID: sn.ID, ClusterName: cluster.Name, CreatedAt: time.Now().UTC(), Storage: t.Snapshots,
		Parallelism: t.Parallelism, ConnectTimeout: t.ConnectTimeout, ServerSelectionTimeout: t.ServerSelectionTimeout,
		OperationTimeout: t.OperationTimeout, GzipLevel: t.GzipLevel, Uncompressed: t.Uncompressed, Logger: t.log(), Type: snapshot.ClusterReplicaSet,
	}
	if cluster.Type == atlas.ShardedCluster {
		opts.Type = snapshot.ClusterShardedCluster
	}
	for _, rs := range cluster.ReplicaSets {
		opts.ReplicaSets = append(opts.ReplicaSets, capture.Source{Name: rs.Name, URI: t.Catalog.ReplicaSetURI(sn.GroupID, cluster.Name, rs.Name), ConfigServer: rs.ConfigServer})
	}
	m, err := capture.Take(ctx, opts)
	if errors.Is(err, snapshot.ErrExists) {
		s, oerr := snapshot.Open(ctx, t.Snapshots, sn.ID)
		if oerr != nil {
			return nil, oerr
		}
		return s.Manifest, nil
	}
	return m, err
}

func (t *Taker) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, id string) {
	tick := time.NewTicker(t.leaseTTL() / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := t.Store.RenewSnapshotLease(ctx, id, t.Owner, time.Now().Add(t.leaseTTL())); errors.Is(err, store.ErrLeaseLost) {
			cancel(err)
			return
		}
	}
}

// Worker runs snapshot jobs dispatched by the queue.
type Worker struct {
	river.WorkerDefaults[queue.SnapshotArgs]
	Taker *Taker
}

// Work implements river.Worker.
func (w *Worker) Work(ctx context.Context, job *river.Job[queue.SnapshotArgs]) error {
	err := w.Taker.Run(ctx, job.Args.SnapshotID)
	if errors.Is(err, queue.ErrLeaseHeld) {
		return river.JobSnooze(w.Taker.leaseTTL())
	}
	return err
}

// Timeout implements river.Worker: captures run as long as they need.
func (w *Worker) Timeout(*river.Job[queue.SnapshotArgs]) time.Duration { return -1 }
