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

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/capture"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// Taker does the work of snapshot jobs; the job runner leases, counts
// and finishes them. A failed capture is not retried: its reason (an
// unreachable replica set, say) is the snapshot's answer.
type Taker struct {
	Store     *store.Store
	Catalog   *config.Catalog
	Snapshots snapshot.Storage
	// Capture settings: timeouts, parallelism, compression.
	ConnectTimeout, ServerSelectionTimeout, OperationTimeout time.Duration
	Parallelism, GzipLevel                                   int
	Uncompressed                                             bool
	Log                                                      *slog.Logger
	// OnCompleted, when set, runs after a snapshot completes (scheduled
	// snapshots' retention and automatic export).
	OnCompleted func(ctx context.Context, snapshotID string)
	// Moved, when set, is told of the documents and BSON bytes of every
	// snapshot taken (metrics).
	Moved func(docs, bytes int64)
}

// CodeCaptureFailed classifies every failed capture in metrics; the
// snapshot's failure reason says what went wrong.
const CodeCaptureFailed = "SNAPSHOT_CAPTURE_FAILED"

func (t *Taker) log() *slog.Logger {
	if t.Log != nil {
		return t.Log
	}
	return slog.Default()
}

// Kind is the snapshot job kind for the runner.
func (t *Taker) Kind() *jobs.Kind {
	return &jobs.Kind{Table: store.SnapshotJobs, Work: t.work, Fail: t.fail,
		Code: func(error) string { return CodeCaptureFailed }}
}

// work takes the snapshot and records it completed.
func (t *Taker) work(ctx context.Context, a *jobs.Attempt) error {
	sn, days, err := t.Store.SnapshotByID(ctx, a.ID)
	if err != nil {
		return err
	}
	m, err := t.capture(ctx, a, sn)
	if err != nil {
		return err
	}
	_, err = t.Store.UpdateSnapshotAs(ctx, a.ID, a.Owner, func(s *atlas.Snapshot) error {
		s.Status = atlas.SnapshotCompleted
		s.CreatedAt = m.CreatedAt.UTC()
		s.ExpiresAt = s.CreatedAt.Add(time.Duration(days) * 24 * time.Hour)
		s.MongodVersion = m.MongodVersion
		s.Consistency = string(m.Consistency.Guarantee)
		s.StorageSizeBytes = 0
		var docs, bytes int64
		colls := 0
		for _, rs := range m.ReplicaSets {
			for _, c := range rs.Collections {
				s.StorageSizeBytes += c.CompressedBytes
				docs += c.DocumentCount
				bytes += c.BSONBytes
				colls++
			}
		}
		// What the snapshot holds; what was read can be more when a
		// collection was read again after a fallback.
		s.Progress.DocumentsTotal, s.Progress.BytesTotal, s.Progress.CollectionsTotal = docs, bytes, colls
		s.Progress.Documents, s.Progress.Bytes = max(s.Progress.Documents, docs), max(s.Progress.Bytes, bytes)
		s.Progress.Collections = colls
		s.Progress.UpdatedAt = a.Now().UTC()
		return nil
	})
	if err == nil {
		t.log().Info("snapshot completed", "snapshot", a.ID, "consistency", m.Consistency.Guarantee)
		if t.Moved != nil {
			var docs, bytes int64
			for _, rs := range m.ReplicaSets {
				for _, c := range rs.Collections {
					docs, bytes = docs+c.DocumentCount, bytes+c.BSONBytes
				}
			}
			t.Moved(docs, bytes)
		}
		if t.OnCompleted != nil {
			// The snapshot is recorded; its follow-up must not die with
			// the attempt's context.
			t.OnCompleted(context.WithoutCancel(ctx), a.ID)
		}
	}
	return err
}

// fail records the snapshot failed with err as its reason.
func (t *Taker) fail(ctx context.Context, a *jobs.Attempt, err error) error {
	_, uerr := t.Store.UpdateSnapshotAs(ctx, a.ID, a.Owner, func(s *atlas.Snapshot) error {
		s.Status, s.FailureReason = atlas.SnapshotFailed, err.Error()
		return nil
	})
	return uerr
}

// capture reads the cluster; a manifest left by an attempt that finished
// capturing but died before recording it is reused.
func (t *Taker) capture(ctx context.Context, a *jobs.Attempt, sn *atlas.Snapshot) (*snapshot.Manifest, error) {
	cluster, ok := t.Catalog.Cluster(sn.GroupID, sn.ClusterName)
	if !ok {
		return nil, fmt.Errorf("cluster %s is no longer configured", sn.ClusterName)
	}
	if _, err := t.Store.UpdateSnapshotAs(ctx, sn.ID, a.Owner, func(s *atlas.Snapshot) error {
		s.Status = atlas.SnapshotInProgress
		return nil
	}); err != nil {
		return nil, err
	}
	opts := capture.Options{
		SnapshotID: sn.ID, ClusterName: cluster.Name, CreatedAt: a.Now().UTC(), Storage: t.Snapshots,
		Parallelism: t.Parallelism, ConnectTimeout: t.ConnectTimeout, ServerSelectionTimeout: t.ServerSelectionTimeout,
		OperationTimeout: t.OperationTimeout, GzipLevel: t.GzipLevel, Uncompressed: t.Uncompressed, Logger: t.log(), Type: snapshot.ClusterReplicaSet,
	}
	if cluster.Type == atlas.ShardedCluster {
		opts.Type = snapshot.ClusterShardedCluster
	}
	for _, rs := range cluster.ReplicaSets {
		opts.ReplicaSets = append(opts.ReplicaSets, capture.Source{Name: rs.Name, URI: t.Catalog.ReplicaSetURI(sn.GroupID, cluster.Name, rs.Name), ConfigServer: rs.ConfigServer})
	}
	opts.Progress = &capture.Progress{}
	stop := t.publishProgress(ctx, a, opts.Progress)
	m, err := capture.Take(ctx, opts)
	stop()
	if err == nil {
		// The last counts, before the snapshot is recorded completed.
		t.publish(ctx, a, opts.Progress)
	}
	if errors.Is(err, snapshot.ErrExists) {
		s, oerr := snapshot.Open(ctx, t.Snapshots, sn.ID)
		if oerr != nil {
			return nil, oerr
		}
		return s.Manifest, nil
	}
	return m, err
}
