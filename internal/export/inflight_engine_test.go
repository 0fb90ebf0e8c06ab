package export_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export"
)

// slowDestinations opens the real bucket and wraps it so that every
// single-request write takes delay longer, like a store that far away,
// counting the writes in flight.
type slowDestinations struct {
	export.Destinations
	delay          time.Duration
	inFlight, peak atomic.Int64
	writes         atomic.Int64
}

func (d *slowDestinations) Open(ctx context.Context, b *atlas.ExportBucket) (blob.Bucket, error) {
	bk, err := d.Destinations.Open(ctx, b)
	if err != nil {
		return nil, err
	}
	return slowBucket{Bucket: bk, d: d}, nil
}

type slowBucket struct {
	blob.Bucket
	d *slowDestinations
}

func (b slowBucket) WriteAll(ctx context.Context, key string, data []byte, opts *blob.WriterOptions) error {
	n := b.d.inFlight.Add(1)
	defer b.d.inFlight.Add(-1)
	for {
		p := b.d.peak.Load()
		if n <= p || b.d.peak.CompareAndSwap(p, n) {
			break
		}
	}
	b.d.writes.Add(1)
	select {
	case <-time.After(b.d.delay):
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return b.Bucket.WriteAll(ctx, key, data, opts)
}

// TestSmallCollectionsFollowLatency exports many small collections into a
// store with 200 ms per write: the engine must keep far more than its
// loopback minimum of 16 in flight (data files and metadata.json), never
// more than its cap of 256, and still write every object. The latency is
// far above the encoding time of a small block even under the race
// detector (which slows encoding ~10×; at 20 ms per write the sizing there
// rightly stays near 16, the store then not being the bottleneck).
func TestSmallCollectionsFollowLatency(t *testing.T) {
	colls := map[string]int{}
	const n = 600
	for i := range n {
		colls[fmt.Sprintf("tiny.c%04d", i)] = 3
	}
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, colls)
	e := f.engine("w1")
	slow := &slowDestinations{Destinations: e.Destinations, delay: 200 * time.Millisecond}
	e.Destinations = slow
	job := f.newJob()
	start := time.Now()
	if err := e.Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := f.job(job.ID); got.State != atlas.ExportSuccessful {
		t.Fatalf("job %s: %+v", got.State, got.StateReason)
	}
	// A data file and a metadata.json per collection, the permission
	// check and .complete.
	if got := slow.writes.Load(); got != 2*n+2 {
		t.Errorf("%d single-request writes, want %d", got, 2*n+2)
	}
	if p := slow.peak.Load(); p < 48 || p > 256 {
		t.Errorf("at most %d writes were in flight at 200 ms per write, want between 48 and 256", p)
	}
	// 16 at a time would take 2·600/16 × 200 ms = 15 s in writes alone.
	t.Logf("%d collections at 200 ms per write: %s, peak %d writes in flight", n, took, slow.peak.Load())
}
