package parquetout

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export/format"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// generated yields n documents of about 1 KiB, built on the fly so the
// source holds no memory of its own.
type generated struct {
	n, i int
	rng  *rand.Rand
	buf  []byte
}

func newGenerated(n int) *generated { return &generated{n: n, rng: rand.New(rand.NewPCG(1, 2))} }

func (g *generated) Next() (bson.Raw, error) {
	if g.i == g.n {
		return nil, io.EOF
	}
	g.i++
	words := []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit"}
	var sb strings.Builder
	for sb.Len() < 700 {
		sb.WriteString(words[g.rng.IntN(len(words))])
		sb.WriteByte(' ')
	}
	d := bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "i", Value: int64(g.i)}, {Key: "text", Value: sb.String()},
		{Key: "d", Value: g.rng.NormFloat64()}, {Key: "at", Value: bson.DateTime(1.7e12 + float64(g.rng.IntN(1e9)))},
		{Key: "tags", Value: bson.A{"a", "b", int32(g.rng.IntN(9))}},
		{Key: "nested", Value: bson.D{{Key: "city", Value: words[g.i%len(words)]}, {Key: "zip", Value: int32(g.rng.IntN(99999))}}},
	}
	var err error
	g.buf, err = bson.Marshal(d)
	return g.buf, err
}

func (g *generated) Close() error { return nil }

// countingDiscard counts what a file would upload.
type countingDiscard struct{ n atomic.Int64 }

func (c *countingDiscard) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// TestMemoryStaysBounded writes ~80 MiB of BSON as one Parquet file and
// samples the live heap (what the last GC kept; the process's soft memory
// limit keeps garbage above it in check): it must stay a fraction of the
// 256 MiB RSS budget whatever the collection's size, since a row group
// is closed after rowGroupBytes of input.
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~96 MiB of BSON")
	}
	const docs = 96 << 10 // ~1 KiB each
	ctx := context.Background()
	col, err := Format{}.Collection(ctx, func(context.Context) (format.Documents, error) { return newGenerated(docs), nil },
		&atlas.ExportOptions{Format: atlas.FormatParquet, Parquet: &atlas.ParquetOptions{Compression: "zstd", RowGroupRows: atlas.DefaultRowGroupRows}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	src := newGenerated(docs)
	first, _ := src.Next()
	var out countingDiscard
	start := time.Now()
	n, size, eof, err := col.(*Collection).Write(ctx, &out, src, first, 1<<40)
	close(stop)
	wg.Wait()
	if err != nil || n != docs || !eof {
		t.Fatalf("wrote %d documents (eof %v): %v", n, eof, err)
	}
	el := time.Since(start)
	t.Logf("%d documents, %.1f MiB BSON → %.1f MiB Parquet in %v (%.0f MiB/s), peak live heap %.1f MiB",
		n, float64(size)/(1<<20), float64(out.n.Load())/(1<<20), el.Round(time.Millisecond), float64(size)/(1<<20)/el.Seconds(), float64(peak.Load())/(1<<20))
	if limit := uint64(64 << 20); peak.Load() > limit {
		t.Fatalf("peak live heap %d MiB over %d MiB", peak.Load()>>20, limit>>20)
	}
}
