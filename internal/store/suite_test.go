package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

// engines opens a fresh store per engine; every suite test runs on both.
var engines = map[string]func(t *testing.T) string{
	"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "snapex.db") },
	"postgres": func(t *testing.T) string { return testenv.Postgres(t) },
}

func forEachEngine(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for name, dsn := range engines {
		t.Run(name, func(t *testing.T) {
			s, err := store.Open(context.Background(), dsn(t))
			if err != nil {
				t.Fatalf("open %s: %v", name, err)
			}
			t.Cleanup(func() { s.Close() })
			if s.Engine() != name {
				t.Fatalf("engine = %s, want %s", s.Engine(), name)
			}
			fn(t, s)
		})
	}
}

const group = "5f0000000000000000000001"

var t0 = time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)

func bucket(i int, p atlas.Provider) *atlas.ExportBucket {
	return &atlas.ExportBucket{
		ID: fmt.Sprintf("6b%022x", i), GroupID: group, BucketName: fmt.Sprintf("bucket-%d", i),
		CloudProvider: p, RoleID: "c0123456789abcdef012345c", Region: "us-east-1",
		CreatedAt: t0.Add(time.Duration(i) * time.Second),
	}
}

func completedSnapshot(id string) *atlas.Snapshot {
	return &atlas.Snapshot{
		ID: id, GroupID: group, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotCompleted,
		SnapshotType: "onDemand", FrequencyType: "ondemand", ReplicaSetName: "rs0", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour),
	}
}

func job(id, snapshotID, bucketID string) *atlas.ExportJob {
	return &atlas.ExportJob{
		ID: id, GroupID: group, ClusterName: "Cluster0", SnapshotID: snapshotID, ExportBucketID: bucketID,
		State: atlas.ExportQueued, Prefix: "exported_snapshots/x/" + id, CreatedAt: t0,
		CustomData: []atlas.Label{{Key: "k", Value: "v"}},
	}
}

func TestMigrationsAreIdempotent(t *testing.T) {
	for name, dsn := range engines {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			for i := 0; i < 2; i++ {
				s, err := store.Open(context.Background(), d)
				if err != nil {
					t.Fatalf("open #%d: %v", i, err)
				}
				s.Close()
			}
		})
	}
}

func TestBucketsRoundTripAndPaging(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := 1; i <= 7; i++ {
			p := atlas.AWS
			if i%3 == 0 {
				p = atlas.GCP
			}
			if err := s.CreateBucket(ctx, bucket(i, p)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetBucket(ctx, group, bucket(2, atlas.AWS).ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := bucket(2, atlas.AWS); *got != *want {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
		page, total, err := s.ListBuckets(ctx, group, "", atlas.Page{Number: 2, ItemsPerPage: 3})
		if err != nil {
			t.Fatal(err)
		}
		if total != 7 || len(page) != 3 || page[0].ID != bucket(4, "").ID {
			t.Fatalf("page 2: total %d, %d items, first %s", total, len(page), page[0].ID)
		}
		aws, total, err := s.ListBuckets(ctx, group, atlas.AWS, atlas.Page{Number: 1, ItemsPerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		if total != 5 || len(aws) != 5 {
			t.Fatalf("AWS filter: total %d, %d items", total, len(aws))
		}
		other, total, err := s.ListBuckets(ctx, "5f0000000000000000000002", "", atlas.Page{Number: 1, ItemsPerPage: 100})
		if err != nil || total != 0 || len(other) != 0 {
			t.Fatalf("other project sees %d buckets (err %v)", total, err)
		}
		if _, err := s.GetBucket(ctx, "5f0000000000000000000002", bucket(2, "").ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("cross-project get: %v", err)
		}
		upd, err := s.SetBucketPrivateNetworking(ctx, group, bucket(1, "").ID, true)
		if err != nil || !upd.RequirePrivateNetworking {
			t.Fatalf("patch: %+v %v", upd, err)
		}
	})
}

func TestBucketInUseCannotBeDeleted(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		sn := completedSnapshot("6c0000000000000000000001")
		if err := s.CreateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		j := job("6d0000000000000000000001", sn.ID, b.ID)
		if err := s.CreateExportJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBucket(ctx, group, b.ID); !errors.Is(err, store.ErrBucketInUse) {
			t.Fatalf("delete in use: %v", err)
		}
		if _, err := s.GetBucket(ctx, group, b.ID); err != nil {
			t.Fatalf("bucket half-deleted: %v", err)
		}
		finish(t, s, j.ID, atlas.ExportSuccessful)
		if err := s.DeleteBucket(ctx, group, b.ID); err != nil {
			t.Fatalf("delete after finish: %v", err)
		}
		if err := s.DeleteBucket(ctx, group, b.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.GetExportJob(ctx, group, "Cluster0", j.ID); err != nil {
			t.Fatalf("finished job must survive its bucket: %v", err)
		}
	})
}

func finish(t *testing.T, s *store.Store, id string, to atlas.ExportState) {
	t.Helper()
	for _, st := range []atlas.ExportState{atlas.ExportInProgress, to} {
		_, err := s.UpdateExportJob(context.Background(), id, func(j *atlas.ExportJob) error {
			j.State = st
			if st.Terminal() {
				now := t0.Add(time.Hour)
				j.FinishedAt = &now
			}
			return nil
		})
		if err != nil {
			t.Fatalf("move %s to %s: %v", id, st, err)
		}
	}
}

func TestOneActiveExportPerSnapshot(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		sn := completedSnapshot("6c0000000000000000000001")
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		// Ten concurrent creates: exactly one wins, the rest see ErrActiveExport.
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = s.CreateExportJob(ctx, job(fmt.Sprintf("6d%022x", i), sn.ID, b.ID), nil)
			}(i)
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrActiveExport):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d concurrent creates succeeded, want 1", ok)
		}
		jobs, total, err := s.ListExportJobs(ctx, group, "Cluster0", atlas.Page{Number: 1, ItemsPerPage: 100})
		if err != nil || total != 1 {
			t.Fatalf("list: %d %v", total, err)
		}
		finish(t, s, jobs[0].ID, atlas.ExportFailed)
		if err := s.CreateExportJob(ctx, job("6d0000000000000000000099", sn.ID, b.ID), nil); err != nil {
			t.Fatalf("export after the first finished: %v", err)
		}
	})
}

func TestExportJobUpdatesAndTransitions(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		sn := completedSnapshot("6c0000000000000000000001")
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		j := job("6d0000000000000000000001", sn.ID, b.ID)
		if err := s.CreateExportJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		_, err := s.UpdateExportJob(ctx, j.ID, func(j *atlas.ExportJob) error { j.State = atlas.ExportSuccessful; return nil })
		if !errors.Is(err, store.ErrBadTransition) {
			t.Fatalf("Queued→Successful: %v", err)
		}
		got, err := s.UpdateExportJob(ctx, j.ID, func(j *atlas.ExportJob) error {
			j.State, j.TotalCollections, j.ExportedCollections = atlas.ExportInProgress, 4, 1
			j.Components = []atlas.ExportComponent{{ExportID: "6e0000000000000000000001", ReplicaSetName: "shard0"}}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != atlas.ExportInProgress || got.TotalCollections != 4 {
			t.Fatalf("update result: %+v", got)
		}
		_, err = s.UpdateExportJob(ctx, j.ID, func(j *atlas.ExportJob) error {
			now := t0.Add(time.Minute)
			j.State, j.FinishedAt = atlas.ExportFailed, &now
			j.StateReason = &atlas.StateReason{ErrorCode: "EXPORT_FAILED", Message: "bucket vanished"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		back, err := s.GetExportJob(ctx, group, "Cluster0", j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if back.State != atlas.ExportFailed || back.StateReason == nil || back.StateReason.Message != "bucket vanished" ||
			back.FinishedAt == nil || !back.FinishedAt.Equal(t0.Add(time.Minute)) || len(back.Components) != 1 ||
			len(back.CustomData) != 1 || back.ExportedCollections != 1 {
			t.Fatalf("persisted job: %+v", back)
		}
		if _, err := s.GetExportJob(ctx, group, "Other", j.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("job under another cluster: %v", err)
		}
		if err := s.CreateExportJob(ctx, job("6d0000000000000000000002", sn.ID, "6b0000000000000000000fff"), nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("job with a missing bucket: %v", err)
		}
	})
}

func TestSnapshotsByKindNewestFirst(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := 0; i < 5; i++ {
			sn := completedSnapshot(fmt.Sprintf("6c%022x", i))
			sn.CreatedAt = t0.Add(time.Duration(i) * time.Hour)
			if i == 4 {
				sn.Kind = atlas.ShardedClusterSnapshot
				sn.Members = []atlas.SnapshotMember{{ID: "6c0000000000000000000100", ReplicaSetName: "shard0"}}
			}
			if err := s.CreateSnapshot(ctx, sn); err != nil {
				t.Fatal(err)
			}
		}
		rs, total, err := s.ListSnapshots(ctx, group, "Cluster0", atlas.ReplicaSetSnapshot, atlas.Page{Number: 1, ItemsPerPage: 2})
		if err != nil || total != 4 || len(rs) != 2 || rs[0].ID != fmt.Sprintf("6c%022x", 3) {
			t.Fatalf("replica set list: total %d len %d err %v", total, len(rs), err)
		}
		sh, total, err := s.ListSnapshots(ctx, group, "Cluster0", atlas.ShardedClusterSnapshot, atlas.Page{Number: 1, ItemsPerPage: 10})
		if err != nil || total != 1 || len(sh[0].Members) != 1 || sh[0].Members[0].ReplicaSetName != "shard0" {
			t.Fatalf("sharded list: %+v %v", sh, err)
		}
		upd, err := s.UpdateSnapshot(ctx, rs[0].ID, func(sn *atlas.Snapshot) error { sn.Description = "kept"; return nil })
		if err != nil || upd.Description != "kept" {
			t.Fatalf("update: %v", err)
		}
		if err := s.DeleteSnapshot(ctx, group, "Cluster0", rs[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetSnapshot(ctx, group, "Cluster0", rs[0].ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted snapshot still there: %v", err)
		}
	})
}

func TestExportPrefixIsUniquePerBucket(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		for i, id := range []string{"6c0000000000000000000001", "6c0000000000000000000002"} {
			if err := s.CreateSnapshot(ctx, completedSnapshot(id)); err != nil {
				t.Fatal(err)
			}
			j := job(fmt.Sprintf("6d%022x", i), id, b.ID)
			j.Prefix = "exported_snapshots/same"
			err := s.CreateExportJob(ctx, j, nil)
			if i == 1 && !errors.Is(err, store.ErrPrefixTaken) {
				t.Fatalf("second job on one prefix: %v", err)
			}
			if i == 0 && err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestOneUnfinishedOnDemandSnapshot(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		queued := func(id string) *atlas.Snapshot {
			sn := completedSnapshot(id)
			sn.Status = atlas.SnapshotQueued
			return sn
		}
		if err := s.CreateQueuedSnapshot(ctx, queued("6c0000000000000000000001"), 3, t0, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateQueuedSnapshot(ctx, queued("6c0000000000000000000002"), 3, t0, nil); !errors.Is(err, store.ErrUnfinishedSnapshot) {
			t.Fatalf("second unfinished snapshot: %v", err)
		}
		sn, days, err := s.SnapshotByID(ctx, "6c0000000000000000000001")
		if err != nil || days != 3 || sn.Status != atlas.SnapshotQueued {
			t.Fatalf("snapshot: %+v %d %v", sn, days, err)
		}
		l, err := s.AcquireLease(ctx, store.SnapshotJobs, sn.ID, "a", t0, t0.Add(time.Second))
		if err != nil || !l.Acquired {
			t.Fatalf("acquire: %+v %v", l, err)
		}
		if l, _ := s.AcquireLease(ctx, store.SnapshotJobs, sn.ID, "b", t0, t0.Add(time.Second)); l.Acquired {
			t.Fatal("a held lease was taken")
		}
		ids, err := s.ExpiredLeases(ctx, store.SnapshotJobs, t0.Add(2*time.Second), t0.Add(-time.Hour))
		if err != nil || len(ids) != 1 {
			t.Fatalf("expired leases: %v %v", ids, err)
		}
		if _, err := s.UpdateSnapshot(ctx, sn.ID, func(sn *atlas.Snapshot) error { sn.Status = atlas.SnapshotCompleted; return nil }); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateQueuedSnapshot(ctx, queued("6c0000000000000000000003"), 3, t0, nil); err != nil {
			t.Fatalf("after the first completed: %v", err)
		}
		exp, err := s.ExpiredSnapshots(ctx, t0.Add(48*time.Hour))
		if err != nil || len(exp) != 1 || exp[0].ID != sn.ID {
			t.Fatalf("expired snapshots: %v %v", exp, err)
		}
	})
}
