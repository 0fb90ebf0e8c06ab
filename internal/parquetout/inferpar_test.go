package parquetout

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// docList yields prepared documents.
type docList struct {
	docs []bson.Raw
	i    int
}

func (d *docList) Next() (bson.Raw, error) {
	if d.i == len(d.docs) {
		return nil, io.EOF
	}
	d.i++
	return d.docs[d.i-1], nil
}

func (d *docList) Close() error { return nil }

// variedDocs makes n documents whose shapes drift: fields appear late,
// types change between documents, decimals grow their scale, one map-like
// level passes maxFields half-way and another only appears in the last
// batch.
func variedDocs(t *testing.T, n int) []bson.Raw {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 9))
	pad := make([]byte, 900)
	docs := make([]bson.Raw, 0, n)
	for i := range n {
		d := bson.D{{Key: "_id", Value: int32(i)}, {Key: "pad", Value: bson.Binary{Data: pad}}}
		switch rng.IntN(4) {
		case 0:
			d = append(d, bson.E{Key: "v", Value: int32(i)})
		case 1:
			d = append(d, bson.E{Key: "v", Value: int64(i)})
		case 2:
			if i > n/2 {
				d = append(d, bson.E{Key: "v", Value: "late string"})
			}
		}
		dec, err := bson.ParseDecimal128(fmt.Sprintf("%d.%0*d", i, 1+i/(n/4+1), i%7))
		if err != nil {
			t.Fatal(err)
		}
		d = append(d, bson.E{Key: "dec", Value: dec})
		d = append(d, bson.E{Key: "map", Value: bson.D{{Key: fmt.Sprintf("k%d", i%(2*maxFields)), Value: i}}})
		d = append(d, bson.E{Key: "arr", Value: bson.A{bson.D{{Key: fmt.Sprintf("f%d", i%5), Value: float64(i)}}, int32(i)}})
		if i >= n-50 {
			d = append(d, bson.E{Key: "lastOnly", Value: bson.D{{Key: "x", Value: true}}})
		}
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, raw)
	}
	return docs
}

// TestParallelInferenceMatchesSequential: batches observed on every core
// and merged give the schema of one pass over the documents in order.
func TestParallelInferenceMatchesSequential(t *testing.T) {
	docs := variedDocs(t, 6000) // ~6 MiB: several batches
	seq := &node{}
	for i, d := range docs {
		seq.types |= bitDoc
		if err := seq.observeDoc(d, 0); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	par, err := infer(context.Background(), &docList{docs: docs})
	if err != nil {
		t.Fatal(err)
	}
	want, got := newSchema(seq, false).arrow.String(), newSchema(par, false).arrow.String()
	if got != want {
		t.Fatalf("parallel inference:\n%s\nsequential:\n%s", got, want)
	}
	// The drift the documents were made with is in the schema.
	if m := seq.fields["map"]; !m.asJSON {
		t.Fatal("the map-like level did not pass maxFields")
	}
	if seq.fields["lastOnly"] == nil || seq.fields["v"].types != bitInt32|bitInt64|bitString {
		t.Fatalf("fields seen late are missing: %s", want)
	}
}

// TestInferenceReportsMalformedDocument names the malformed document.
func TestInferenceReportsMalformedDocument(t *testing.T) {
	docs := variedDocs(t, 3000)
	bad := append(bson.Raw(nil), docs[2500]...)
	bad[len(bad)-1] = 1 // no terminating NUL
	docs[2500] = bad
	_, err := infer(context.Background(), &docList{docs: docs})
	if err == nil || !strings.Contains(err.Error(), "document 2500") {
		t.Fatalf("error %v, want one naming document 2500", err)
	}
}
