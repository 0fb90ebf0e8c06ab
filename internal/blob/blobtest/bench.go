package blobtest

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/blob"
)

// BenchSize is the object size of the write benchmark: 64 MiB.
const BenchSize = 64 << 20

// BenchmarkWrite streams a size-byte object into b per iteration in
// 256 KiB writes (about what a gzip stage hands on) and reports MB/s,
// allocations, and "peak-heap-MiB": the largest growth of the live heap
// over its level before the write, sampled every 2 ms. With part
// buffers the peak stays near (in-flight parts + 1) × part size however
// large the object is; note that a server running in the same process
// (fake-gcs-server) adds its own memory to this figure.
func BenchmarkWrite(b *testing.B, bkt blob.Bucket, size int) {
	chunk := Data(42, 256<<10)
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var peak atomic.Uint64
	i := 0
	for b.Loop() {
		key := fmt.Sprintf("bench/object-%d", i%2)
		i++
		b.StopTimer()
		stop := sampleHeap(&peak)
		b.StartTimer()
		w, err := bkt.NewWriter(ctx, key, nil)
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk[:min(len(chunk), size-n)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		stop()
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// BenchmarkRead reads a size-byte object back per iteration.
func BenchmarkRead(b *testing.B, bkt blob.Bucket, size int) {
	ctx := context.Background()
	data := Data(43, size)
	if err := bkt.WriteAll(ctx, "bench/read", data, nil); err != nil {
		b.Fatal(err)
	}
	data = nil
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		r, err := bkt.NewReader(ctx, "bench/read")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf)
		if err != nil || n != int64(size) {
			b.Fatalf("read %d bytes, err %v", n, err)
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// sampleHeap records into peak the largest rise of HeapAlloc over its
// value at the start, until the returned stop function is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base {
				if d := ms.HeapAlloc - base; d > peak.Load() {
					peak.Store(d)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
