package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/jobs/jobstest"
	"github.com/snapex/snapex/internal/store"
)

// recorder is a jobs.Observer that writes down what it is told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(s string) { r.mu.Lock(); r.events = append(r.events, s); r.mu.Unlock() }

func (r *recorder) AttemptStarted(kind, _ string, n int) { r.add(fmt.Sprintf("start %s %d", kind, n)) }
func (r *recorder) AttemptFailed(kind, _ string, n int, code string, final bool, _ time.Duration) {
	r.add(fmt.Sprintf("fail %s %d %s final=%v", kind, n, code, final))
}
func (r *recorder) JobEnded(kind, _ string, o jobs.Outcome, took time.Duration) {
	if took <= 0 {
		r.add("ended without a duration")
	}
	r.add(fmt.Sprintf("end %s %s", kind, o))
}

// TestObserverAndLogsFollowAJob: a job whose first attempt fails and
// second succeeds is observed attempt by attempt, with the failure's code,
// and ends once, with one "job ended" log line.
func TestObserverAndLogsFollowAJob(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "snapex.db"))
	now := time.Now().UTC()
	sn := &atlas.Snapshot{ID: atlas.NewObjectID(now), GroupID: "5f0000000000000000000001", ClusterName: "Cluster0",
		Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotQueued, SnapshotType: "onDemand", FrequencyType: "ondemand",
		ReplicaSetName: "rs0", CreatedAt: now}
	ctx := context.Background()
	if err := s.CreateQueuedSnapshot(ctx, sn, 1, now, nil); err != nil {
		t.Fatal(err)
	}
	k := &jobs.Kind{
		Table: store.SnapshotJobs,
		Work: func(ctx context.Context, a *jobs.Attempt) error {
			if a.Number == 1 {
				return errTransient
			}
			_, err := s.UpdateSnapshotAs(ctx, a.ID, a.Owner, func(sn *atlas.Snapshot) error { sn.Status = atlas.SnapshotCompleted; return nil })
			return err
		},
		Retryable: func(err error) bool { return errors.Is(err, errTransient) },
		Fail:      func(context.Context, *jobs.Attempt, error) error { return nil },
		Code:      func(error) string { return "STORE_DOWN" },
	}
	logs := &jobstest.Logs{}
	rec := &recorder{}
	r := &jobs.Runner{Store: s, Owner: "p0", Clock: time.Now, LeaseTTL: time.Second, Log: logs.Logger(), Observer: rec,
		Retry: jobs.Retry{MaxAttempts: 3, Backoff: 50 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}}
	if res, err := r.Run(ctx, k, sn.ID); err != nil || !res.Done {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	want := []string{"start snapshot 1", "fail snapshot 1 STORE_DOWN final=false", "start snapshot 2", "end snapshot succeeded"}
	if fmt.Sprint(rec.events) != fmt.Sprint(want) {
		t.Fatalf("observed %q, want %q", rec.events, want)
	}
	for msg, n := range map[string]int{"job attempt": 2, "job attempt failed": 1, "job ended": 1} {
		if got := logs.Count(msg); got != n {
			t.Errorf("%d log lines %q, want %d", got, msg, n)
		}
	}
}
