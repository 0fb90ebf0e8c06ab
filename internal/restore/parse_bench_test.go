package restore

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/ejson"
)

// benchCorpus returns n typical exported documents (~1 KiB of BSON: text,
// numbers, dates, arrays, a subdocument, as internal/exporttest builds)
// as canonical Extended JSON lines, as snapex's export writes them, and
// their BSON size.
func benchCorpus(b testing.TB, n int) ([]byte, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func(k int) string {
		var s strings.Builder
		for s.Len() < k {
			s.WriteString([]string{"lorem ", "ipsum ", "dolor ", "sit ", "amet ", "héllo ", "data "}[rng.IntN(7)])
		}
		return s.String()
	}
	var out []byte
	var size int64
	for i := range n {
		doc, err := bson.Marshal(bson.D{
			{Key: "_id", Value: bson.NewObjectID()}, {Key: "rs", Value: "rs0"}, {Key: "i", Value: int64(i)},
			{Key: "text", Value: word(700)}, {Key: "d", Value: rng.NormFloat64() * 1e3}, {Key: "u", Value: "héllo \"q\" \u2028"},
			{Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(rng.IntN(2e9)), 0))},
			{Key: "tags", Value: bson.A{word(12), int32(rng.IntN(1000)), rng.Int64()}},
			{Key: "nested", Value: bson.D{{Key: "city", Value: word(16)}, {Key: "zip", Value: int32(rng.IntN(99999))}}},
		})
		if err != nil {
			b.Fatal(err)
		}
		size += int64(len(doc))
		if out, err = ejson.AppendDocument(out, doc); err != nil {
			b.Fatal(err)
		}
		out = append(out, '\n')
	}
	return out, size
}

// BenchmarkParse measures the input side of a restore into a null sink,
// per core: splitting lines, Extended JSON → BSON with the driver's
// parser and with parseDocument (ejson.ParseDocument), and the latter after gunzip. SetBytes is the BSON produced, so
// MB/s compares directly with what a server ingests.
func BenchmarkParse(b *testing.B) {
	text, size := benchCorpus(b, 4000)
	var zbuf bytes.Buffer
	zw := gzip.NewWriter(&zbuf)
	zw.Write(text)
	zw.Close()
	docs := float64(4000)

	b.Run("split", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sp := newSplitter(bytes.NewReader(text))
			for {
				if _, _, err := sp.next(); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(docs*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("driver", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sp := newSplitter(bytes.NewReader(text))
			for {
				line, _, err := sp.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				var doc bson.Raw
				if err := bson.UnmarshalExtJSON(line, false, &doc); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(docs*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			sp := newSplitter(bytes.NewReader(text))
			for {
				line, _, err := sp.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if _, err := parseDocument(line); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(docs*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("gunzip+fast", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			zr, err := gzip.NewReader(bytes.NewReader(zbuf.Bytes()))
			if err != nil {
				b.Fatal(err)
			}
			st := &fileStream{key: "bench", rc: io.NopCloser(nil), sp: newSplitter(zr)}
			for {
				if _, err := st.nextBatch(1000, 8<<20); err == io.EOF {
					break
				} else if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(docs*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
	})
}

// TestBenchCorpusRoundTrips keeps the benchmark honest: its documents
// parse back to the BSON they were written from.
func TestBenchCorpusRoundTrips(t *testing.T) {
	text, _ := benchCorpus(t, 50)
	sp := newSplitter(bytes.NewReader(text))
	n := 0
	for {
		line, _, err := sp.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		doc, err := parseDocument(line)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ejson.AppendDocument(nil, doc)
		if err != nil || !bytes.Equal(back, line) {
			t.Fatalf("document %d: %s\nreads back as %s (%v)", n, line, back, err)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("%d documents, want 50", n)
	}
}
