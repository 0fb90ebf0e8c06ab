package snapshot

import (
	"context"
	"io"
	"runtime"
	"testing"
)

const largeDocs = 100_000

// TestLargeCollectionBoundedMemory streams a 100k-document collection and
// checks that reading allocates a small, fixed amount instead of memory
// proportional to the data.
func TestLargeCollectionBoundedMemory(t *testing.T) {
	st, _ := newDirStorage(t)
	m := writeSnapshot(t, st, "big", map[string]int{"big": largeDocs})
	entry := m.ReplicaSets[0].Collections[0]
	if entry.BSONBytes < 20<<20 {
		t.Fatalf("test data too small to show streaming: %d bytes", entry.BSONBytes)
	}
	ctx := context.Background()
	s, err := Open(ctx, st, "big")
	if err != nil {
		t.Fatal(err)
	}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	dr, err := s.OpenCollection(ctx, "rs0", "app", "big")
	if err != nil {
		t.Fatal(err)
	}
	var n, bytes int64
	var sum byte
	for {
		doc, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		bytes += int64(len(doc))
		sum ^= doc[4]
	}
	if err := dr.Close(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)

	if n != largeDocs || bytes != entry.BSONBytes {
		t.Fatalf("read %d docs / %d bytes, want %d / %d", n, bytes, largeDocs, entry.BSONBytes)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("read %d docs, %d BSON bytes (%d compressed), allocated %d bytes in %d objects",
		n, bytes, entry.CompressedBytes, alloc, after.Mallocs-before.Mallocs)
	// Buffers: gzip state, two 64 KiB read buffers and one document buffer
	// sized for the largest (70 KB) document. Far below the data size.
	if alloc > 2<<20 {
		t.Fatalf("reading allocated %d bytes for %d bytes of data; want a bounded amount (< 2 MiB)", alloc, bytes)
	}
	if objs := after.Mallocs - before.Mallocs; objs > 1000 {
		t.Fatalf("reading made %d allocations; per-document allocations suspected", objs)
	}
}

// BenchmarkReadCollection measures streaming throughput of a 100k-document
// collection (bytes/s are uncompressed BSON).
func BenchmarkReadCollection(b *testing.B) {
	st, _ := newDirStorage(b)
	m := writeSnapshot(b, st, "bench", map[string]int{"c": largeDocs})
	ctx := context.Background()
	s, err := Open(ctx, st, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(m.ReplicaSets[0].Collections[0].BSONBytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		dr, err := s.OpenCollection(ctx, "rs0", "app", "c")
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := dr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		dr.Close()
	}
}

// BenchmarkWriteCollection measures writing (framing checks + gzip) of
// 100k documents at the default level.
func BenchmarkWriteCollection(b *testing.B) {
	st, _ := newDirStorage(b)
	docs := make([][]byte, 10_000)
	var size int64
	for i := range docs {
		docs[i] = makeDoc(b, "c", i)
		size += int64(len(docs[i]))
	}
	ctx := context.Background()
	b.SetBytes(size * 10)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w, err := NewWriter(ctx, st, Manifest{ID: "w"})
		if err != nil {
			b.Fatal(err)
		}
		cw, err := w.CreateCollection(ctx, "rs0", "app", Metadata{CollectionName: "c"})
		if err != nil {
			b.Fatal(err)
		}
		for range 10 {
			for _, d := range docs {
				if err := cw.Append(d); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := cw.Close(); err != nil {
			b.Fatal(err)
		}
		if err := w.Abort(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
