package parquetout

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export/format"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// dumpDocs yields the documents of a mongodump .bson file held in memory.
type dumpDocs struct{ b []byte }

func (d *dumpDocs) Next() (bson.Raw, error) {
	if len(d.b) == 0 {
		return nil, io.EOF
	}
	n := int(uint32(d.b[0]) | uint32(d.b[1])<<8 | uint32(d.b[2])<<16 | uint32(d.b[3])<<24)
	doc := bson.Raw(d.b[:n])
	d.b = d.b[n:]
	return doc, nil
}

func (d *dumpDocs) Close() error { return nil }

// TestDumpFile writes the .bson file named by SNAPEX_PQ_BSON as Parquet
// files of 64 MiB of BSON, two at a time as the export engine does, and
// reports the time of the schema pass and of the files; for profiling.
func TestDumpFile(t *testing.T) {
	path := os.Getenv("SNAPEX_PQ_BSON")
	if path == "" {
		t.Skip("SNAPEX_PQ_BSON names no .bson file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	fc, err := Format{}.Collection(ctx, func(context.Context) (format.Documents, error) { return &dumpDocs{b}, nil }, &atlas.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("schema %v", time.Since(start))
	c := fc.(*Collection)
	r := &dumpDocs{b}
	var prev func() error
	var out countingDiscard
	for {
		first, err := r.Next()
		if err == io.EOF {
			break
		}
		_, _, eof, wait, err := c.start(ctx, &out, r, first, 64<<20, nil)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			if err := prev(); err != nil {
				t.Fatal(err)
			}
		}
		prev = wait
		if eof {
			break
		}
	}
	if err := prev(); err != nil {
		t.Fatal(err)
	}
	t.Logf("total %v, %.1f MiB", time.Since(start), float64(out.n.Load())/(1<<20))
}
