package local

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/blob/blobtest"
)

// Shape of BenchmarkPutDeepKeys: an export of many tiny collections,
// each writing a ~300-byte data file and a ~300-byte metadata.json at
// keys 9 segments deep, from benchWriters goroutines.
const (
	benchCollections = 2000
	benchWriters     = 16
	benchObjectSize  = 300
)

// benchOptions returns the options of the bucket under benchmark.
func benchOptions(dir string, deferSync bool) Options {
	return Options{Dir: dir, DeferSync: deferSync}
}

// BenchmarkPutDeepKeys writes benchCollections × 2 small objects with
// WriteAll from benchWriters goroutines, each iteration under a new
// snapshot prefix, and reports objects/s. With DeferSync the iteration
// ends with one Bucket.Sync, which is part of the measured time.
func BenchmarkPutDeepKeys(b *testing.B) {
	for _, deferSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("DeferSync=%v", deferSync), func(b *testing.B) {
			bkt, err := Open(benchOptions(b.TempDir(), deferSync))
			if err != nil {
				b.Fatal(err)
			}
			defer bkt.Close()
			ctx := context.Background()
			data := blobtest.Data(1, benchObjectSize)
			meta := []byte(fmt.Sprintf(`{"collectionName":"c","type":"collection","indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}],"pad":%q}`, make([]byte, 150)))
			b.ReportAllocs()
			var objects int64
			var elapsed time.Duration
			iter := 0
			for b.Loop() {
				prefix := fmt.Sprintf("exported_snapshots/5f4e3d2c1b0a998877665544/6a5b4c3d2e1f001122334455/Cluster0/2026-11-22T2359/%d/tinydb/", 1763855999+iter)
				iter++
				start := time.Now()
				var next atomic.Int64
				var wg sync.WaitGroup
				errs := make(chan error, benchWriters)
				for range benchWriters {
					wg.Go(func() {
						for {
							c := next.Add(1) - 1
							if c >= benchCollections {
								return
							}
							dir := fmt.Sprintf("%sc%05d/", prefix, c)
							if err := bkt.WriteAll(ctx, dir+"rs0.0.json.gz", data, nil); err != nil {
								errs <- err
								return
							}
							if err := bkt.WriteAll(ctx, dir+"metadata.json", meta, nil); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
				if err := bkt.Sync(ctx); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				objects += 2 * benchCollections
			}
			b.ReportMetric(float64(objects)/elapsed.Seconds(), "objects/s")
		})
	}
}
