package capture

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/testenv"
)

// heapSampler records the peak of live heap objects while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) finish() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkTake50k streams a 50,000-document collection (every BSON type
// FerretDB stores, about 900 bytes each) from FerretDB into a local directory.
// MB/s is BSON bytes read per second; FerretDB's find dominates the time
// (see test-servers.md), so the figure measures the stand-in more than
// this package. peak-heap-MB is the largest live heap seen during the
// runs: it stays at a few batches' worth, far below the collection size
// (bsonBytes-MB), which is the bounded-memory property.
func BenchmarkTake50k(b *testing.B) {
	const n = 50_000
	uri := testenv.FerretDB(b)
	client := connectClient(b, uri)
	docs := make([]any, 0, n)
	for i := range n {
		docs = append(docs, ferretTypedDoc(i))
	}
	insertAll(b, client.Database("bench").Collection("docs"), docs)
	docs = nil
	st := newStorage(b)
	ctx := context.Background()
	opts := func(id string) Options {
		return Options{SnapshotID: id, ReplicaSets: []Source{{Name: "rs0", URI: uri}}, Storage: st}
	}
	// A warm-up capture gives the exact size and checks the count.
	m, err := Take(ctx, opts("warm-up"))
	if err != nil {
		b.Fatal(err)
	}
	if m.TotalDocuments() != n {
		b.Fatalf("captured %d documents, want %d", m.TotalDocuments(), n)
	}
	size := m.TotalBSONBytes()

	// The baseline: the same find through the driver, documents discarded.
	b.Run("driver-find", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		coll := client.Database("bench").Collection("docs")
		for b.Loop() {
			cur, err := coll.Find(ctx, bson.D{}, options.Find().SetHint(bson.D{{Key: "$natural", Value: 1}}))
			if err != nil {
				b.Fatal(err)
			}
			got := 0
			for cur.Next(ctx) {
				got++
			}
			if err := cur.Err(); err != nil || got != n {
				b.Fatalf("find: %d documents, %v", got, err)
			}
			_ = cur.Close(ctx)
		}
	})
	b.Run("take", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		heap := startHeapSampler()
		for i := 0; b.Loop(); i++ {
			id := fmt.Sprintf("run-%d", i)
			m, err := Take(ctx, opts(id))
			if err != nil {
				b.Fatal(err)
			}
			if m.TotalDocuments() != n {
				b.Fatalf("captured %d documents, want %d", m.TotalDocuments(), n)
			}
			b.StopTimer()
			if err := st.Delete(ctx, id); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(heap.finish())/1e6, "peak-heap-MB")
		b.ReportMetric(float64(size)/1e6, "bsonBytes-MB")
	})
}
