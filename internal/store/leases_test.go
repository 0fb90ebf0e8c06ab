package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// leasedKinds creates one queued job of each leased kind (queued at t0)
// and returns its id, with a function finishing it.
var leasedKinds = []struct {
	kind   store.JobKind
	create func(t *testing.T, s *store.Store) string
	finish func(s *store.Store, id, owner string) error
}{
	{
		kind: store.ExportJobs,
		create: func(t *testing.T, s *store.Store) string {
			ctx := context.Background()
			b, sn := bucket(1, atlas.AWS), completedSnapshot("6c0000000000000000000001")
			j := job("6d0000000000000000000001", sn.ID, b.ID)
			for _, err := range []error{s.CreateBucket(ctx, b), s.CreateSnapshot(ctx, sn), s.CreateExportJob(ctx, j, nil)} {
				if err != nil {
					t.Fatal(err)
				}
			}
			return j.ID
		},
		finish: func(s *store.Store, id, owner string) error {
			_, err := s.UpdateExportJobAs(context.Background(), id, owner, func(j *atlas.ExportJob) error {
				j.State = atlas.ExportFailed
				return nil
			})
			return err
		},
	},
	{
		kind: store.SnapshotJobs,
		create: func(t *testing.T, s *store.Store) string {
			sn := completedSnapshot("6c0000000000000000000009")
			sn.Status = atlas.SnapshotQueued
			if err := s.CreateQueuedSnapshot(context.Background(), sn, 1, t0, nil); err != nil {
				t.Fatal(err)
			}
			return sn.ID
		},
		finish: func(s *store.Store, id, owner string) error {
			_, err := s.UpdateSnapshotAs(context.Background(), id, owner, func(sn *atlas.Snapshot) error {
				sn.Status = atlas.SnapshotFailed
				return nil
			})
			return err
		},
	},
}

// TestLeasesCountAttemptsAndRespectRetries runs the one lease API on every
// job kind: leases exclude other workers (and a second run of the same
// worker), attempts are counted in the store, a job waiting for its retry
// is neither acquirable nor listed as abandoned until it is due, a handed
// back attempt is uncounted and updates are fenced.
func TestLeasesCountAttemptsAndRespectRetries(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		for _, lk := range leasedKinds {
			t.Run(lk.kind.Name, func(t *testing.T) {
				ctx, k := context.Background(), lk.kind
				id := lk.create(t, s)
				grace := 30 * time.Second
				listed := func(now time.Time) bool {
					t.Helper()
					ids, err := s.ExpiredLeases(ctx, k, now, now.Add(-grace))
					if err != nil {
						t.Fatal(err)
					}
					return len(ids) == 1 && ids[0] == id
				}
				if listed(t0.Add(time.Second)) {
					t.Fatal("a freshly queued job is listed as abandoned")
				}
				if !listed(t0.Add(grace + time.Second)) {
					t.Fatal("a job nobody claimed for longer than the grace is not listed")
				}
				l, err := s.AcquireLease(ctx, k, id, "a", t0, t0.Add(10*time.Second))
				if err != nil || !l.Acquired || !l.Active || l.Attempts != 0 {
					t.Fatalf("acquire: %+v %v", l, err)
				}
				for _, owner := range []string{"b", "a"} {
					if l, err := s.AcquireLease(ctx, k, id, owner, t0.Add(time.Second), t0.Add(time.Minute)); err != nil || l.Acquired {
						t.Fatalf("%s acquired a held lease: %+v %v", owner, l, err)
					}
				}
				if _, err := s.BeginAttempt(ctx, k, id, "b"); !errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("attempt without the lease: %v", err)
				}
				for want := 1; want <= 2; want++ {
					if n, err := s.BeginAttempt(ctx, k, id, "a"); err != nil || n != want {
						t.Fatalf("attempt %d: %d %v", want, n, err)
					}
				}
				retryAt := t0.Add(time.Minute)
				if err := s.ScheduleRetry(ctx, k, id, "a", retryAt, "upload failed"); err != nil {
					t.Fatal(err)
				}
				a, err := s.JobAttempts(ctx, k, id)
				if err != nil || a.Count != 2 || a.LastError != "upload failed" || !a.RetryAt.Equal(retryAt) {
					t.Fatalf("attempts: %+v %v", a, err)
				}
				// a's lease expires while the job waits: nobody may take it
				// before the retry is due.
				wait := t0.Add(30 * time.Second)
				if listed(wait) {
					t.Fatal("a job waiting for its retry is listed as abandoned")
				}
				if l, err := s.AcquireLease(ctx, k, id, "b", wait, wait.Add(10*time.Second)); err != nil || l.Acquired || !l.RetryAt.Equal(retryAt) {
					t.Fatalf("acquired before the retry was due: %+v %v", l, err)
				}
				due := retryAt.Add(time.Second)
				if !listed(due) {
					t.Fatal("a due job of a dead worker is not listed")
				}
				if l, err := s.AcquireLease(ctx, k, id, "b", due, due.Add(10*time.Second)); err != nil || !l.Acquired || l.Attempts != 2 {
					t.Fatalf("take over a due job: %+v %v", l, err)
				}
				if n, err := s.BeginAttempt(ctx, k, id, "b"); err != nil || n != 3 {
					t.Fatalf("attempt 3: %d %v", n, err)
				}
				if a, _ := s.JobAttempts(ctx, k, id); !a.RetryAt.IsZero() {
					t.Fatalf("retry time kept after the attempt began: %+v", a)
				}
				if _, err := s.RenewLease(ctx, k, id, "a", due.Add(time.Minute)); !errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("renew by the old holder: %v", err)
				}
				if err := lk.finish(s, id, "a"); !errors.Is(err, store.ErrLeaseLost) {
					t.Fatalf("update by the old holder: %v", err)
				}
				if err := s.ReleaseLease(ctx, k, id, "b", true); err != nil {
					t.Fatal(err)
				}
				if a, _ := s.JobAttempts(ctx, k, id); a.Count != 2 {
					t.Fatalf("handed-back attempt still counted: %+v", a)
				}
				if l, err := s.AcquireLease(ctx, k, id, "c", due, due.Add(time.Minute)); err != nil || !l.Acquired {
					t.Fatalf("acquire after release: %+v %v", l, err)
				}
				if err := lk.finish(s, id, "c"); err != nil {
					t.Fatal(err)
				}
				if l, err := s.AcquireLease(ctx, k, id, "d", due.Add(time.Hour), due.Add(2*time.Hour)); err != nil || l.Acquired || l.Active {
					t.Fatalf("acquired a finished job: %+v %v", l, err)
				}
				if listed(due.Add(time.Hour)) {
					t.Fatal("a finished job is listed as abandoned")
				}
			})
		}
	})
}

// TestExportLeaseRenewalReportsCancellation checks that renewing reports a
// requested cancellation for the kind that has one.
func TestExportLeaseRenewalReportsCancellation(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		id := leasedKinds[0].create(t, s)
		if l, err := s.AcquireLease(ctx, store.ExportJobs, id, "a", t0, t0.Add(time.Minute)); err != nil || !l.Acquired {
			t.Fatalf("acquire: %+v %v", l, err)
		}
		if c, err := s.RenewLease(ctx, store.ExportJobs, id, "a", t0.Add(time.Minute)); err != nil || c {
			t.Fatalf("renew: %v %v", c, err)
		}
		if _, err := s.RequestExportCancel(ctx, id, t0); err != nil {
			t.Fatal(err)
		}
		if c, err := s.RenewLease(ctx, store.ExportJobs, id, "a", t0.Add(time.Minute)); err != nil || !c {
			t.Fatalf("renew after cancel: %v %v", c, err)
		}
	})
}
