package storerepo_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/store"
)

const groupID = "5f0000000000000000000001"

// TestStoreReportsDomainConflicts drives a real (SQLite) store through the
// conditions the service's rules depend on and checks each surfaces as the
// atlas.Conflict the service looks for, and that the enqueue hooks run
// when rows are created.
func TestStoreReportsDomainConflicts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "snapex.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var enqueuedJobs, enqueuedSnaps []string
	repo := &storerepo.Repo{
		Store: st,
		EnqueueExport: func(j *atlas.ExportJob) store.InTx {
			return func(context.Context, store.Tx) error { enqueuedJobs = append(enqueuedJobs, j.ID); return nil }
		},
		EnqueueSnapshot: func(sn *atlas.Snapshot) store.InTx {
			return func(context.Context, store.Tx) error { enqueuedSnaps = append(enqueuedSnaps, sn.ID); return nil }
		},
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

	_, err = repo.GetBucket(ctx, groupID, "5b0000000000000000000001")
	wantBoth(t, "unknown bucket", err, atlas.NotFound, store.ErrNotFound)

	b := &atlas.ExportBucket{ID: atlas.NewObjectID(now), GroupID: groupID, BucketName: "exports", CloudProvider: atlas.AWS,
		RoleID: "6a0000000000000000000001", Region: "us-east-1", CreatedAt: now}
	if err := repo.CreateBucket(ctx, b); err != nil {
		t.Fatal(err)
	}
	cluster := atlas.Cluster{GroupID: groupID, Name: "Cluster0", Type: atlas.ReplicaSetCluster, ReplicaSets: []atlas.ReplicaSet{{Name: "rs0"}}}
	sn := atlas.NewOnDemandSnapshot(cluster, "", 1, now)
	if err := repo.CreateQueuedSnapshot(ctx, sn, 1, now); err != nil {
		t.Fatal(err)
	}
	err = repo.CreateQueuedSnapshot(ctx, atlas.NewOnDemandSnapshot(cluster, "", 1, now), 1, now)
	wantBoth(t, "second unfinished snapshot", err, atlas.UnfinishedSnapshot, store.ErrUnfinishedSnapshot)
	if len(enqueuedSnaps) != 1 || enqueuedSnaps[0] != sn.ID {
		t.Fatalf("snapshot hooks ran for %v, want only %s", enqueuedSnaps, sn.ID)
	}

	job := &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: "Cluster0", SnapshotID: sn.ID,
		ExportBucketID: b.ID, State: atlas.ExportQueued, Prefix: "p1", CreatedAt: now}
	if err := repo.CreateExportJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	again := *job
	again.ID, again.Prefix = atlas.NewObjectID(now), "p2"
	wantBoth(t, "second active export", repo.CreateExportJob(ctx, &again), atlas.ActiveExportExists, store.ErrActiveExport)
	if len(enqueuedJobs) != 1 || enqueuedJobs[0] != job.ID {
		t.Fatalf("export hooks ran for %v, want only %s", enqueuedJobs, job.ID)
	}
	other := atlas.NewOnDemandSnapshot(atlas.Cluster{GroupID: groupID, Name: "Cluster1", ReplicaSets: []atlas.ReplicaSet{{Name: "rs1"}}}, "", 1, now)
	if err := repo.CreateQueuedSnapshot(ctx, other, 1, now); err != nil {
		t.Fatal(err)
	}
	twin := *job
	twin.ID, twin.ClusterName, twin.SnapshotID = atlas.NewObjectID(now), "Cluster1", other.ID
	wantBoth(t, "prefix used in the bucket", repo.CreateExportJob(ctx, &twin), atlas.PrefixTaken, store.ErrPrefixTaken)
	wantBoth(t, "bucket in use", repo.DeleteBucket(ctx, groupID, b.ID), atlas.BucketInUse, store.ErrBucketInUse)
	if err := repo.RequestExportCancel(ctx, job.ID, now, atlas.CancelledByUser()); err != nil {
		t.Fatalf("cancel: %v", err)
	}
}

func wantBoth(t *testing.T, what string, err error, conflict atlas.Conflict, storeErr error) {
	t.Helper()
	if !errors.Is(err, conflict) || !errors.Is(err, storeErr) {
		t.Fatalf("%s: got %v, want %q (the store's %v) in the chain", what, err, conflict, storeErr)
	}
}
