package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/jobs/jobstest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

func TestRetryDelaysDoubleUpToTheCap(t *testing.T) {
	r := jobs.Retry{MaxAttempts: 5, Backoff: time.Second, MaxBackoff: 5 * time.Second}
	var got []time.Duration
	for n := 1; n <= 5; n++ {
		got = append(got, r.Delay(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delays %v, want %v", got, want)
	}
	if w := r.TotalWait(); w != 12*time.Second {
		t.Fatalf("total wait %s, want 12s (the waits after attempts 1 to 4)", w)
	}
}

// forEachEngine runs fn on a fresh SQLite and a fresh PostgreSQL store
// holding one queued snapshot job.
func forEachEngine(t *testing.T, fn func(t *testing.T, dsn string, id string)) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "snapex.db") },
		"postgres": func(t *testing.T) string { return testenv.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			s := open(t, d)
			now := time.Now().UTC()
			sn := &atlas.Snapshot{ID: atlas.NewObjectID(now), GroupID: "5f0000000000000000000001", ClusterName: "Cluster0",
				Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotQueued, SnapshotType: "onDemand", FrequencyType: "ondemand",
				ReplicaSetName: "rs0", CreatedAt: now}
			if err := s.CreateQueuedSnapshot(context.Background(), sn, 1, now, nil); err != nil {
				t.Fatal(err)
			}
			fn(t, d, sn.ID)
		})
	}
}

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var errTransient = errors.New("store unreachable")

// failingKind is a snapshot kind whose every attempt fails transiently;
// it records the attempts it saw.
type failingKind struct {
	mu       sync.Mutex
	attempts []jobs.Attempt
}

func (f *failingKind) kind() *jobs.Kind {
	return &jobs.Kind{
		Table: store.SnapshotJobs,
		Work: func(ctx context.Context, a *jobs.Attempt) error {
			f.mu.Lock()
			f.attempts = append(f.attempts, *a)
			f.mu.Unlock()
			return fmt.Errorf("attempt %d: %w", a.Number, errTransient)
		},
		Retryable: func(err error) bool { return errors.Is(err, errTransient) },
		Fail: func(ctx context.Context, a *jobs.Attempt, err error) error {
			return failSnapshot(ctx, nil, a, err)
		},
	}
}

func failSnapshot(ctx context.Context, s *store.Store, a *jobs.Attempt, err error) error {
	if s == nil {
		return nil
	}
	_, uerr := s.UpdateSnapshotAs(ctx, a.ID, a.Owner, func(sn *atlas.Snapshot) error {
		sn.Status, sn.FailureReason = atlas.SnapshotFailed, err.Error()
		return nil
	})
	return uerr
}

// TestAttemptsAreCountedAndBounded works a snapshot job whose attempts all
// fail transiently with two processes watching it: it must fail after
// exactly MaxAttempts attempts (counted in the store), all by the process
// that started it, after the backoff's waits, without the other process's
// reaper taking over the job while it waits for its retry.
func TestAttemptsAreCountedAndBounded(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string, id string) {
		retry := jobs.Retry{MaxAttempts: 3, Backoff: 400 * time.Millisecond, MaxBackoff: 800 * time.Millisecond}
		const ttl = 300 * time.Millisecond // shorter than the waits: the lease must be kept across them
		logs := &jobstest.Logs{}
		log := logs.Logger()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		defer func() { cancel(); wg.Wait() }()
		var runners []*jobs.Runner
		fk := &failingKind{}
		var kinds []*jobs.Kind
		for i := range 2 {
			st := open(t, dsn)
			r := &jobs.Runner{Store: st, Owner: fmt.Sprintf("p%d", i), Clock: time.Now, LeaseTTL: ttl, Retry: retry, Log: log}
			k := fk.kind()
			k.Fail = func(ctx context.Context, a *jobs.Attempt, err error) error { return failSnapshot(ctx, st, a, err) }
			runners, kinds = append(runners, r), append(kinds, k)
			reaper := &jobs.Reaper{Runner: r, Kind: k, Interval: ttl / 3, Grace: 2 * ttl, Slots: make(chan struct{}, 1)}
			wg.Add(1)
			go func() { defer wg.Done(); reaper.Run(ctx) }()
		}
		start := time.Now()
		res, err := runners[0].Run(ctx, kinds[0], id)
		elapsed := time.Since(start)
		if err != nil || !res.Done {
			t.Fatalf("Run = %+v, %v", res, err)
		}
		st := runners[0].Store
		sn, _, err := st.SnapshotByID(context.Background(), id)
		if err != nil || sn.Status != atlas.SnapshotFailed || !strings.Contains(sn.FailureReason, "attempt 3") {
			t.Fatalf("snapshot %+v, %v; want failed by attempt 3", sn, err)
		}
		a, err := st.JobAttempts(context.Background(), store.SnapshotJobs, id)
		if err != nil || a.Count != 3 || !strings.Contains(a.LastError, "attempt 2") {
			t.Fatalf("attempt record %+v, %v", a, err)
		}
		fk.mu.Lock()
		seen := fk.attempts
		fk.mu.Unlock()
		if len(seen) != 3 {
			t.Fatalf("%d attempts made, want 3: %+v", len(seen), seen)
		}
		for i, at := range seen {
			if at.Number != i+1 || at.Owner != "p0" || at.Final != (i == 2) {
				t.Fatalf("attempt %d: %+v", i+1, at)
			}
		}
		if elapsed < retry.TotalWait() || elapsed > retry.TotalWait()+5*time.Second {
			t.Fatalf("failed after %s; the waits are %s", elapsed, retry.TotalWait())
		}
		time.Sleep(3 * ttl) // the reapers look again: a failed job stays alone
		for msg, want := range map[string]int{"job attempt": 3, "job attempt failed": 3, "taking over abandoned job": 0} {
			if n := logs.Count(msg); n != want {
				t.Errorf("%d log lines %q, want %d", n, msg, want)
			}
		}
	})
}

// TestStoppedWorkerHandsBackItsAttempt stops a process in the middle of
// an attempt and between attempts: an interrupted attempt is uncounted
// and the successor continues at once, while a scheduled retry keeps its
// time, so the successor waits for it too.
func TestStoppedWorkerHandsBackItsAttempt(t *testing.T) {
	forEachEngine(t, func(t *testing.T, dsn string, id string) {
		st := open(t, dsn)
		retry := jobs.Retry{MaxAttempts: 5, Backoff: 2 * time.Second, MaxBackoff: 2 * time.Second}
		log := slog.New(slog.DiscardHandler)
		runner := func(owner string) *jobs.Runner {
			return &jobs.Runner{Store: st, Owner: owner, Clock: time.Now, LeaseTTL: time.Second, Retry: retry, Log: log}
		}
		started := make(chan struct{}, 1)
		blocking := &jobs.Kind{Table: store.SnapshotJobs, Work: func(ctx context.Context, a *jobs.Attempt) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := runner("a").Run(ctx, blocking, id); done <- err }()
		<-started
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped Run = %v", err)
		}
		if a, _ := st.JobAttempts(context.Background(), store.SnapshotJobs, id); a.Count != 0 {
			t.Fatalf("an interrupted attempt is counted: %+v", a)
		}

		fk := &failingKind{}
		failing := fk.kind()
		ctx, cancel = context.WithCancel(context.Background())
		go func() { _, err := runner("b").Run(ctx, failing, id); done <- err }()
		waitUntil(t, func() bool {
			a, _ := st.JobAttempts(context.Background(), store.SnapshotJobs, id)
			return !a.RetryAt.IsZero()
		})
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run stopped while waiting = %v", err)
		}
		a, _ := st.JobAttempts(context.Background(), store.SnapshotJobs, id)
		if a.Count != 1 || a.RetryAt.IsZero() {
			t.Fatalf("after a stop between attempts: %+v", a)
		}
		res, err := runner("c").Run(context.Background(), failing, id)
		if err != nil || res.Done || !res.Wait.Equal(a.RetryAt) {
			t.Fatalf("a successor took the job before its retry was due: %+v %v (retry at %s)", res, err, a.RetryAt)
		}
	})
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
