package export_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// Progress is recorded in the background; when recording fails there
// (here: another worker took the job's lease after the first batch), the
// run stops before its remaining collections (exporters learn of the
// failure at their next record, at the latest once progressMaxPending
// records wait), leaves the job to the lease's holder and never writes
// .complete.
func TestBackgroundProgressFailureStopsTheRun(t *testing.T) {
	colls := map[string]int{}
	const total = 3000 // more than the 2,048 records that may queue, plus one batch and the exporters in flight
	for i := range total {
		colls[fmt.Sprintf("tiny.c%04d", i)] = 2
	}
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, colls)
	job := f.newJob()
	e := f.engine("w1")
	e.Runner.LeaseTTL = time.Hour // only the theft below ends w1's lease
	var steal sync.Once
	var stealErr error
	e.AfterChunk = func(id string, _ store.Progress) {
		steal.Do(func() {
			ctx := context.Background()
			if stealErr = f.store.ReleaseLease(ctx, store.ExportJobs, id, "w1", false); stealErr != nil {
				return
			}
			now := time.Now()
			_, stealErr = f.store.AcquireLease(ctx, store.ExportJobs, id, "thief", now, now.Add(time.Hour))
		})
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), job.ID, false) }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the run did not stop after its progress could no longer be recorded")
	}
	if stealErr != nil {
		t.Fatalf("taking the lease: %v", stealErr)
	}
	if err != nil {
		t.Fatalf("Run = %v; a lost lease ends the run quietly", err)
	}
	if got := f.job(job.ID); got.State != atlas.ExportInProgress {
		t.Fatalf("job %+v; want it left InProgress to the lease's holder", got)
	}
	out := openLocal(t, f)
	if ok, _ := out.Exists(context.Background(), job.Prefix+"/.complete"); ok {
		t.Fatal(".complete written by a run whose progress could not be recorded")
	}
	written := 0
	for o, err := range out.List(context.Background(), job.Prefix+"/") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(o.Key, ".json.gz") {
			written++
		}
	}
	if written >= total {
		t.Fatalf("all %d collections were exported after the progress could no longer be recorded", written)
	}
	t.Logf("%d of %d collections exported before the run stopped", written, total)
}
