package export_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// TestProgressGrowsDuringOneCollection reads the progress extension while
// a single large collection exports: it grows chunk by chunk, never
// shrinks, and ends at the snapshot's totals, while exportStatus keeps
// Atlas's meaning (0 of 1 until the collection is done).
func TestProgressGrowsDuringOneCollection(t *testing.T) {
	const docs = 6000
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": docs})
	job := f.newJob()
	e := f.engine("w1")
	// Reading the snapshot slowly makes the export last a few seconds.
	e.Snapshots = slowStorage{f.snaps}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), job.ID, false) }()

	var seen []atlas.JobProgress
	var running bool
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(15 * time.Millisecond):
		}
		j := f.job(job.ID)
		if j.State == atlas.ExportInProgress && j.Progress.Documents > 0 && j.Progress.Documents < docs {
			running = true
			if j.ExportedCollections != 0 || j.TotalCollections != 1 {
				t.Fatalf("exportStatus %d/%d while the only collection runs", j.ExportedCollections, j.TotalCollections)
			}
			if j.Attempts.Count != 1 {
				t.Fatalf("attempt %d while the first attempt runs", j.Attempts.Count)
			}
		}
		if n := len(seen); n > 0 {
			prev := seen[n-1]
			if j.Progress.Documents < prev.Documents || j.Progress.Bytes < prev.Bytes {
				t.Fatalf("progress went back: %+v after %+v", j.Progress, prev)
			}
		}
		if len(seen) == 0 || seen[len(seen)-1].Documents != j.Progress.Documents {
			seen = append(seen, j.Progress)
		}
	}
	if !running || len(seen) < 4 {
		t.Fatalf("saw %d distinct progress values (%+v); want several while the collection ran", len(seen), seen)
	}
	final := f.job(job.ID)
	p := final.Progress
	if final.State != atlas.ExportSuccessful || p.Documents != docs || p.DocumentsTotal != docs || p.Bytes != p.BytesTotal || p.BytesTotal == 0 {
		t.Fatalf("final job %s progress %+v", final.State, p)
	}
	if final.ExportedCollections != 1 {
		t.Fatalf("exportedCollections %d at the end", final.ExportedCollections)
	}
}

// TestCancelledJobsSayWhy checks the stateReason of a job a user
// cancelled and of one whose snapshot was deleted.
func TestCancelledJobsSayWhy(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 3000})
	ctx := context.Background()

	queued := f.newJob()
	got, err := f.store.RequestExportCancelBecause(ctx, queued.ID, time.Now(), atlas.CancelledSnapshotDeleted(f.snap.ID))
	if err != nil {
		t.Fatal(err)
	}
	if got.State != atlas.ExportCancelled || got.StateReason == nil || got.StateReason.ErrorCode != string(atlas.CodeExportCancelledSnapshotGone) {
		t.Fatalf("queued job cancelled for a deleted snapshot: %s %+v", got.State, got.StateReason)
	}

	running := f.newJob()
	e := f.engine("w1")
	e.Parallelism = 1
	e.AfterChunk = func(string, store.Progress) { time.Sleep(20 * time.Millisecond) }
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, running.ID, false) }()
	waitFor(t, 20*time.Second, func() bool { return f.job(running.ID).State == atlas.ExportInProgress })
	if _, err := f.store.RequestExportCancel(ctx, running.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got = f.job(running.ID)
	if got.State != atlas.ExportCancelled || got.StateReason == nil || got.StateReason.ErrorCode != string(atlas.CodeExportCancelledByUser) {
		t.Fatalf("running job cancelled by a user: %s %+v", got.State, got.StateReason)
	}
}

// slowStorage reads collection data files 8 KiB at a time with a pause
// before each read.
type slowStorage struct{ snapshot.Storage }

func (s slowStorage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Storage.Open(ctx, key)
	if err != nil || !strings.Contains(key, ".bson") {
		return rc, err
	}
	return slowReader{rc}, nil
}

type slowReader struct{ io.ReadCloser }

func (r slowReader) Read(p []byte) (int, error) {
	time.Sleep(5 * time.Millisecond)
	return r.ReadCloser.Read(p[:min(len(p), 8<<10)])
}

// TestShardedProgressByComponent: a sharded cluster's export breaks its
// progress down by replica set, and the parts add up to the whole.
func TestShardedProgressByComponent(t *testing.T) {
	f := newFixture(t, "", "", "Sharded0", []string{"shard0", "shard1"}, map[string]int{"shop.orders": 500, "crm.people": 80})
	job := f.newJob()
	if err := f.engine("w1").Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	p := f.job(job.ID).Progress
	if len(p.ReplicaSets) != 2 || p.ReplicaSets[0].ReplicaSet != "shard0" || p.ReplicaSets[1].ReplicaSet != "shard1" {
		t.Fatalf("components: %+v", p.ReplicaSets)
	}
	var docs, bytes int64
	for _, rs := range p.ReplicaSets {
		if rs.Documents != rs.DocumentsTotal || rs.Documents == 0 {
			t.Fatalf("component %s ended at %d/%d documents", rs.ReplicaSet, rs.Documents, rs.DocumentsTotal)
		}
		docs, bytes = docs+rs.Documents, bytes+rs.Bytes
	}
	if docs != p.Documents || bytes != p.Bytes || p.Documents != p.DocumentsTotal {
		t.Fatalf("components add up to %d documents, %d bytes; the job says %+v", docs, bytes, p)
	}
}
