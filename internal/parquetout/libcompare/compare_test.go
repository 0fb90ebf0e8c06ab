// Package libcompare benchmarks the two maintained Go Parquet writers on
// snapex's export documents (the ~1 KiB documents of the export tests:
// ObjectId, strings, int64, double, date, a mixed-type array and a nested
// document): apache/arrow-go through internal/parquetout (typed Arrow
// builders, pqarrow) against parquet-go/parquet-go's generic path for a
// schema known only at run time (documents decoded to map[string]any and
// written through a parquet.Schema built at run time). Both write zstd.
//
//	cd internal/parquetout/libcompare && go test -bench . -benchtime 3x
package libcompare

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/duckdbtest"
	"github.com/snapex/snapex/internal/ejson"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/parquetout"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const docCount = 20000

// corpus is the benchmark's documents, built once.
var corpus = func() []bson.Raw {
	rng := rand.New(rand.NewPCG(7, 9))
	words := []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do"}
	prose := func(n int) string {
		var sb strings.Builder
		for sb.Len() < n {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(' ')
		}
		return sb.String()
	}
	at := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	out := make([]bson.Raw, docCount)
	for i := range out {
		out[i], _ = bson.Marshal(bson.D{
			{Key: "_id", Value: bson.NewObjectID()}, {Key: "rs", Value: "rs0"}, {Key: "i", Value: int64(i)},
			{Key: "text", Value: prose(700)}, {Key: "d", Value: rng.NormFloat64() * 1e3}, {Key: "u", Value: "héllo \"q\""},
			{Key: "at", Value: bson.NewDateTimeFromTime(at.Add(-time.Duration(rng.IntN(1e9)) * time.Second))},
			{Key: "tags", Value: bson.A{prose(12), int32(rng.IntN(1000)), rng.Int64()}},
			{Key: "nested", Value: bson.D{{Key: "city", Value: prose(16)}, {Key: "zip", Value: int32(rng.IntN(99999))}}},
		})
	}
	return out
}()

func bsonBytes() int64 {
	var n int64
	for _, d := range corpus {
		n += int64(len(d))
	}
	return n
}

type docs struct{ i int }

func (d *docs) Next() (bson.Raw, error) {
	if d.i == len(corpus) {
		return nil, io.EOF
	}
	d.i++
	return corpus[d.i-1], nil
}
func (d *docs) Close() error { return nil }

func BenchmarkArrowGo(b *testing.B) {
	ctx := context.Background()
	opts := &atlas.ExportOptions{Format: atlas.FormatParquet}
	if err := opts.Normalize(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bsonBytes())
	b.ReportAllocs()
	var size int
	for b.Loop() {
		col, err := parquetout.Format{}.Collection(ctx, func(context.Context) (format.Documents, error) { return &docs{}, nil }, opts)
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		src := &docs{}
		first, _ := src.Next()
		if n, _, _, err := col.(*parquetout.Collection).Write(ctx, &out, src, first, 1<<40); err != nil || n != docCount {
			b.Fatalf("%d documents: %v", n, err)
		}
		size = out.Len()
	}
	b.ReportMetric(float64(size)/float64(bsonBytes()), "out/in")
}

// parquetGoSchema is the documents' schema as parquet-go nodes, the
// equivalent of what parquetout infers (tags mix types: Extended JSON
// strings).
func parquetGoSchema() *parquet.Schema {
	str := parquet.Optional(parquet.String())
	return parquet.NewSchema("doc", parquet.Group{
		"_id": str, "rs": str, "i": parquet.Optional(parquet.Int(64)), "text": str,
		"d": parquet.Optional(parquet.Leaf(parquet.DoubleType)), "u": str,
		"at":     parquet.Optional(parquet.Timestamp(parquet.Millisecond)),
		"tags":   parquet.List(str),
		"nested": parquet.Optional(parquet.Group{"city": str, "zip": parquet.Optional(parquet.Int(32))}),
	})
}

// toMap decodes a document into the map parquet-go writes, converting
// each value as parquetout does (ObjectId hex, date millis, mixed array
// elements as Extended JSON).
func toMap(doc bson.Raw, scratch []byte) map[string]any {
	m := map[string]any{}
	elems, _ := doc.Elements()
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "_id":
			m["_id"] = v.ObjectID().Hex()
		case "at":
			m["at"] = time.UnixMilli(int64(v.DateTime())).UTC()
		case "tags":
			vals, _ := v.Array().Values()
			tags := make([]string, len(vals))
			for i, tv := range vals {
				w, _ := bson.Marshal(bson.D{{Key: "", Value: tv}})
				j, _ := ejson.AppendDocument(scratch[:0], w)
				tags[i] = string(j[4 : len(j)-1])
			}
			m["tags"] = tags
		case "nested":
			n := map[string]any{}
			ne, _ := v.Document().Elements()
			for _, x := range ne {
				if x.Key() == "zip" {
					n["zip"] = x.Value().Int32()
				} else {
					n[x.Key()] = x.Value().StringValue()
				}
			}
			m["nested"] = n
		case "i":
			m["i"] = v.Int64()
		case "d":
			m["d"] = v.Double()
		default:
			m[e.Key()] = v.StringValue()
		}
	}
	return m
}

func BenchmarkParquetGo(b *testing.B) {
	schema := parquetGoSchema()
	b.SetBytes(bsonBytes())
	b.ReportAllocs()
	var size int
	scratch := make([]byte, 0, 4096)
	for b.Loop() {
		var out bytes.Buffer
		w := parquet.NewWriter(&out, schema, parquet.Compression(&zstd.Codec{}))
		for _, d := range corpus {
			if err := w.Write(toMap(d, scratch)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		size = out.Len()
	}
	b.ReportMetric(float64(size)/float64(bsonBytes()), "out/in")
}

// TestBothReadByDuckDB: both writers' files read back in DuckDB with the
// same values, so the benchmark compares equivalent output.
func TestBothReadByDuckDB(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts := &atlas.ExportOptions{Format: atlas.FormatParquet}
	if err := opts.Normalize(); err != nil {
		t.Fatal(err)
	}
	col, err := parquetout.Format{}.Collection(ctx, func(context.Context) (format.Documents, error) { return &docs{}, nil }, opts)
	if err != nil {
		t.Fatal(err)
	}
	var a, p bytes.Buffer
	src := &docs{}
	first, _ := src.Next()
	if _, _, _, err := col.(*parquetout.Collection).Write(ctx, &a, src, first, 1<<40); err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(&p, parquetGoSchema(), parquet.Compression(&zstd.Codec{}))
	for _, d := range corpus {
		if err := w.Write(toMap(d, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	q := "SELECT count(*)::INTEGER AS n, sum(i)::BIGINT::VARCHAR AS s, max(epoch_ms(\"at\"))::BIGINT::VARCHAR AS at, max(nested.zip) AS zip, max(tags[3]) AS t3, min(_id) AS id FROM read_parquet('%s')"
	fa, fp := filepath.Join(dir, "arrow.parquet"), filepath.Join(dir, "parquetgo.parquet")
	if err := os.WriteFile(fa, a.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fp, p.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res := duckdbtest.Query(t, fmt.Sprintf(q, fa), fmt.Sprintf(q, fp))
	ar, pg := res[0][0], res[1][0]
	if ar["t3"] == nil {
		t.Fatalf("arrow-go lost the list values: %v", ar)
	}
	// parquet-go v0.32.1 writes a LIST given inside a map[string]any row
	// as empty (seen here with []string and []any values; a map spelling
	// out list/element panics), so the list column is left out of the
	// comparison and its cost is missing from BenchmarkParquetGo.
	t.Logf("parquet-go list value: %v (arrow-go: %v)", pg["t3"], ar["t3"])
	delete(ar, "t3")
	delete(pg, "t3")
	if fmt.Sprint(ar) != fmt.Sprint(pg) || ar["n"] != float64(docCount) {
		t.Fatalf("arrow-go %v\nparquet-go %v", ar, pg)
	}
}
