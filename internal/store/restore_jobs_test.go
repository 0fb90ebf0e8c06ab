package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

func restoreJob(i int) *atlas.RestoreJob {
	return &atlas.RestoreJob{
		ID: fmt.Sprintf("6e%022x", i), GroupID: group, ClusterName: "Cluster0", ExportJobID: "6d0000000000000000000001",
		TargetClusterName: "Cluster1", TargetDatabaseName: "copy", State: atlas.ExportQueued, CreatedAt: t0.Add(time.Duration(i) * time.Second),
		Options: atlas.RestoreOptions{NsInclude: []string{"app.*"}, Drop: true, Duplicates: atlas.DuplicatesSkip},
	}
}

// The lease tests run on restore jobs as on every leased kind.
func init() {
	leasedKinds = append(leasedKinds, struct {
		kind   store.JobKind
		create func(t *testing.T, s *store.Store) string
		finish func(s *store.Store, id, owner string) error
	}{
		kind: store.RestoreJobs,
		create: func(t *testing.T, s *store.Store) string {
			j := restoreJob(99)
			j.CreatedAt = t0
			if err := s.CreateRestoreJob(context.Background(), j, nil); err != nil {
				t.Fatal(err)
			}
			return j.ID
		},
		finish: func(s *store.Store, id, owner string) error {
			_, err := s.UpdateRestoreJobAs(context.Background(), id, owner, func(j *atlas.RestoreJob) error {
				j.State = atlas.ExportFailed
				return nil
			})
			return err
		},
	})
}

func TestRestoreJobsStoreAndPage(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := 1; i <= 3; i++ {
			if err := s.CreateRestoreJob(ctx, restoreJob(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetRestoreJob(ctx, group, "Cluster0", restoreJob(2).ID)
		if err != nil {
			t.Fatal(err)
		}
		want := restoreJob(2)
		if got.TargetDatabaseName != "copy" || got.Options.NsInclude[0] != "app.*" || !got.Options.Drop || got.Options.Duplicates != "skip" ||
			!got.CreatedAt.Equal(want.CreatedAt) || got.FinishedAt != nil || got.State != atlas.ExportQueued {
			t.Fatalf("round trip: %+v", got)
		}
		if _, err := s.GetRestoreJob(ctx, group, "Other", want.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another cluster's job: %v", err)
		}
		page, total, err := s.ListRestoreJobs(ctx, group, "Cluster0", atlas.Page{ItemsPerPage: 2, Number: 2})
		if err != nil || total != 3 || len(page) != 1 || page[0].ID != restoreJob(3).ID {
			t.Fatalf("page 2: %v %d %v", page, total, err)
		}
	})
}

func TestRestoreJobCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		queued, running := restoreJob(1), restoreJob(2)
		for _, j := range []*atlas.RestoreJob{queued, running} {
			if err := s.CreateRestoreJob(ctx, j, nil); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		if l, err := s.AcquireLease(ctx, store.RestoreJobs, running.ID, "w1", now, now.Add(time.Minute)); err != nil || !l.Acquired {
			t.Fatalf("lease: %+v %v", l, err)
		}
		if j, err := s.RequestRestoreCancel(ctx, queued.ID, now); err != nil || j.State != atlas.ExportCancelled || j.FinishedAt == nil {
			t.Fatalf("queued job: %+v %v", j, err)
		}
		j, err := s.RequestRestoreCancel(ctx, running.ID, now)
		if err != nil || j.State != atlas.ExportQueued {
			t.Fatalf("a leased job waits for its worker: %+v %v", j, err)
		}
		if c, err := s.RenewLease(ctx, store.RestoreJobs, running.ID, "w1", now.Add(time.Minute)); err != nil || !c {
			t.Fatalf("the worker must see the request: %v %v", c, err)
		}
	})
}

func TestRestoreProgressIsFencedAndCounted(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		j := restoreJob(1)
		if err := s.CreateRestoreJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := s.AcquireLease(ctx, store.RestoreJobs, j.ID, "w1", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		rows := []store.RestoreProgressRow{
			{Kind: store.RestoreProgressFile, Key: "a/1", Docs: 10, Done: true, Record: `{"f":1}`},
			{Kind: store.RestoreProgressFile, Key: "a/2", Docs: 5, Record: `{"f":2}`},
			{Kind: store.RestoreProgressFile, Key: "a/2", Docs: 7, Record: `{"f":3}`},
			{Kind: store.RestoreProgressNamespace, Key: "app.a", Done: true, Record: `{}`},
			{Kind: store.RestoreProgressNamespace, Key: "app.b", Record: `{}`},
		}
		for _, r := range rows {
			if err := s.SaveRestoreProgress(ctx, j.ID, "w1", "run1", r); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.SaveRestoreProgress(ctx, j.ID, "w2", "run1", rows[0]); !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a worker without the lease must be refused: %v", err)
		}
		got, err := s.RestoreProgress(ctx, j.ID, "run1")
		if err != nil || len(got) != 4 {
			t.Fatalf("rows: %v %v", got, err)
		}
		for _, r := range got {
			if r.Key == "a/2" && (r.Docs != 7 || r.Record != `{"f":3}`) {
				t.Fatalf("the last save wins: %+v", r)
			}
		}
		if other, _ := s.RestoreProgress(ctx, j.ID, "run2"); len(other) != 0 {
			t.Fatalf("another run sees nothing: %v", other)
		}
		job, err := s.RestoreJobByID(ctx, j.ID)
		if err != nil || job.Progress != (atlas.RestoreProgress{DocumentsRestored: 17, FilesDone: 1, NamespacesDone: 1}) {
			t.Fatalf("counters: %+v %v", job.Progress, err)
		}
		if err := s.ClearRestoreProgress(ctx, j.ID, "w1", "run1"); err != nil {
			t.Fatal(err)
		}
		job, _ = s.RestoreJobByID(ctx, j.ID)
		if left, _ := s.RestoreProgress(ctx, j.ID, "run1"); len(left) != 0 || job.Progress != (atlas.RestoreProgress{}) {
			t.Fatalf("after clear: %v %+v", left, job.Progress)
		}
	})
}

func TestBucketOfARestoringExportIsInUse(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b, sn := bucket(1, atlas.AWS), completedSnapshot("6c0000000000000000000001")
		ex := job("6d0000000000000000000001", sn.ID, b.ID)
		for _, err := range []error{s.CreateBucket(ctx, b), s.CreateSnapshot(ctx, sn), s.CreateExportJob(ctx, ex, nil)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, st := range []atlas.ExportState{atlas.ExportInProgress, atlas.ExportSuccessful} {
			if _, err := s.UpdateExportJob(ctx, ex.ID, func(j *atlas.ExportJob) error { j.State = st; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		r := restoreJob(1)
		if err := s.CreateRestoreJob(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBucket(ctx, group, b.ID); !errors.Is(err, store.ErrBucketInUse) {
			t.Fatalf("delete while a restore job reads it: %v", err)
		}
		if _, err := s.RequestRestoreCancel(ctx, r.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteBucket(ctx, group, b.ID); err != nil {
			t.Fatalf("delete once the restore ended: %v", err)
		}
	})
}
