package export_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/jobs/jobstest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
)

// TestStoppedStoreFailsAfterCountedAttempts stops the S3 server in the
// middle of an export, once with one process (the queue's dispatch and the
// reaper of that process) and once with three processes sharing
// PostgreSQL (each with its reaper). The job must end Failed with
// EXPORT_UPLOAD_FAILED after exactly the configured attempts, counted in
// the store, no sooner than the backoff's waits and within its bound,
// with one log line per attempt and no reaper taking over the job while
// it waits for its retry.
func TestStoppedStoreFailsAfterCountedAttempts(t *testing.T) {
	for _, c := range []struct {
		name      string
		processes int
		dsn       func(t *testing.T) string
	}{
		{"one process", 1, func(t *testing.T) string { return "" }},
		{"three processes on postgres", 3, func(t *testing.T) string { return testenv.Postgres(t) }},
	} {
		t.Run(c.name, func(t *testing.T) { stopStoreMidExport(t, c.processes, c.dsn(t)) })
	}
}

func stopStoreMidExport(t *testing.T, processes int, dsn string) {
	srv := testenv.VersityGW(t)
	t.Setenv("ATTEMPTS_TEST_AK", srv.AccessKey)
	t.Setenv("ATTEMPTS_TEST_SK", srv.SecretKey)
	roles := fmt.Sprintf(`          - id: %s
            provider: AWS
            aws: {accessKeyId: env:ATTEMPTS_TEST_AK, secretAccessKey: env:ATTEMPTS_TEST_SK, region: us-east-1, endpoint: %s, usePathStyle: true}`,
		s3Role, srv.Endpoint)
	f := newFixture(t, dsn, roles, "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 3000, "shop.items": 2000})
	srv.CreateBucket(t, "attempts")
	f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: "attempts",
		CloudProvider: atlas.AWS, RoleID: s3Role, CreatedAt: time.Now()}
	if err := f.store.CreateBucket(context.Background(), f.bucket); err != nil {
		t.Fatal(err)
	}
	job := f.newJob()

	retry := jobs.Retry{MaxAttempts: 3, Backoff: 300 * time.Millisecond, MaxBackoff: 600 * time.Millisecond}
	logs := &jobstest.Logs{}
	log := logs.Logger()
	var chunks atomic.Int64
	stopped := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var engines []*export.Engine
	for i := range processes {
		e := f.engine(fmt.Sprintf("process-%d", i))
		if i > 0 {
			st, err := store.Open(context.Background(), f.cfg.Database.Value())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			e.Store, e.Runner.Store = st, st
		}
		e.Log, e.Runner.Log, e.Runner.Retry = log, log, retry
		e.Destinations = f.destinations(&stores.Opener{RequestTimeout: 2 * time.Second})
		e.AfterChunk = func(string, store.Progress) {
			if chunks.Add(1) == 3 {
				if err := srv.Stop(); err != nil {
					t.Errorf("stop versitygw: %v", err)
				}
				stopped <- time.Now()
			}
			time.Sleep(20 * time.Millisecond)
		}
		engines = append(engines, e)
		reaper := &jobs.Reaper{Runner: e.Runner, Kind: e.Kind(), Interval: e.Runner.LeaseTTL / 3,
			Grace: 2 * e.Runner.LeaseTTL, Slots: make(chan struct{}, 2)}
		wg.Add(1)
		go func() { defer wg.Done(); reaper.Run(ctx) }()
	}
	// The queue dispatches the job to the first process.
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := engines[0].Runner.Run(ctx, engines[0].Kind(), job.ID); err != nil && ctx.Err() == nil {
			t.Errorf("Run: %v", err)
		}
	}()

	var stopAt time.Time
	select {
	case stopAt = <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatalf("the export never reached its third data file; job %+v", f.job(job.ID))
	}
	// Each attempt with the store gone ends when the S3 client gives up
	// after its own retries (6–20 s measured); allow 30 s per attempt on
	// top of the backoff's waits.
	bound := retry.TotalWait() + time.Duration(retry.MaxAttempts)*30*time.Second
	var got *atlas.ExportJob
	for got = f.job(job.ID); !got.State.Terminal(); got = f.job(job.ID) {
		if time.Since(stopAt) > bound {
			t.Fatalf("job still %s %s after the store stopped; log:\n%s", got.State, bound, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(stopAt)
	if got.State != atlas.ExportFailed || got.StateReason == nil || got.StateReason.ErrorCode != "EXPORT_UPLOAD_FAILED" {
		t.Fatalf("job ended %s with %+v, want Failed EXPORT_UPLOAD_FAILED", got.State, got.StateReason)
	}
	if elapsed < retry.TotalWait() {
		t.Fatalf("Failed %s after the store stopped, sooner than the backoff's %s of waits", elapsed, retry.TotalWait())
	}
	a, err := f.store.JobAttempts(context.Background(), store.ExportJobs, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Count != retry.MaxAttempts || a.LastError == "" || !a.RetryAt.IsZero() {
		t.Fatalf("attempt record %+v, want %d attempts with the last transient error", a, retry.MaxAttempts)
	}
	// Let the reapers look a few more times: a Failed job stays alone.
	time.Sleep(3 * engines[0].Runner.LeaseTTL)
	for msg, want := range map[string]int{
		"job attempt":                              retry.MaxAttempts,
		"job attempt failed":                       retry.MaxAttempts,
		"taking over abandoned job":                0,
		"job lease lost; another worker continues": 0,
	} {
		if n := logs.Count(msg); n != want {
			t.Errorf("%d log lines %q, want %d; log:\n%s", n, msg, want, logs)
		}
	}
	t.Logf("%d process(es): Failed %s after the store stopped (waits %s, bound %s); last error: %s",
		processes, elapsed.Round(time.Millisecond), retry.TotalWait(), bound, a.LastError)
}
