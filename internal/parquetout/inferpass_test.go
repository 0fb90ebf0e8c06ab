package parquetout

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/export/format"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// variedDocs are documents whose fields come in varying orders and
// appear for the first time all along the collection, with types that
// vary, arrays of documents that gain fields, decimals of growing scale
// and a map-like document whose distinct keys pass maxFields only over
// the whole collection.
func variedDocs(t *testing.T, n int) []bson.Raw {
	rng := rand.New(rand.NewPCG(3, 4))
	docs := make([]bson.Raw, 0, n)
	for i := range n {
		d := bson.D{{Key: "_id", Value: int32(i)}}
		if i%3 == 0 {
			d = append(d, bson.E{Key: "b", Value: "x"}, bson.E{Key: "a", Value: int32(1)})
		} else {
			d = append(d, bson.E{Key: "a", Value: int64(2)}, bson.E{Key: "b", Value: "y"})
		}
		if i%500 == 499 {
			d = append(d, bson.E{Key: fmt.Sprintf("late%d", i/500), Value: float64(i)})
		}
		items := bson.A{bson.D{{Key: "q", Value: int32(i)}}}
		if i%900 == 1 {
			items = append(items, bson.D{{Key: fmt.Sprintf("new%d", i/900), Value: true}, {Key: "q", Value: "s"}})
		}
		d = append(d, bson.E{Key: "items", Value: items})
		dec, err := bson.ParseDecimal128(fmt.Sprintf("%d.%0*d", i, 1+i/2000, 1))
		if err != nil {
			t.Fatal(err)
		}
		d = append(d, bson.E{Key: "dec", Value: dec})
		m := bson.D{}
		for range 2 {
			m = append(m, bson.E{Key: fmt.Sprintf("k%d", rng.IntN(1100)), Value: int32(1)})
		}
		d = append(d, bson.E{Key: "m", Value: m}, bson.E{Key: "pad", Value: string(make([]byte, 400))})
		raw, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, raw)
	}
	return docs
}

type rawDocs struct{ docs []bson.Raw }

func (r *rawDocs) Next() (bson.Raw, error) {
	if len(r.docs) == 0 {
		return nil, io.EOF
	}
	d := r.docs[0]
	r.docs = r.docs[1:]
	return d, nil
}

func (r *rawDocs) Close() error { return nil }

// TestParallelPassMatchesOnePass: the schema merged from passes over
// parts of the collection is the one a single pass finds.
func TestParallelPassMatchesOnePass(t *testing.T) {
	docs := variedDocs(t, 20000) // ~10 MiB: pieces go to every pass
	one := &node{}
	p := &pass{}
	for i, d := range docs {
		p.doc = int64(i)
		one.types |= bitDoc
		if err := one.observeDoc(p, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	want := newSchema(one, false).arrow.String()
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		got, err := inferParallel(context.Background(), &rawDocs{docs})
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		if s := newSchema(got, false).arrow.String(); s != want {
			t.Errorf("GOMAXPROCS %d: schema\n%s\nwant\n%s", procs, s, want)
		}
	}
	// While another pass holds the cores, the pass runs serially.
	parallelPass <- struct{}{}
	got, err := infer(context.Background(), &rawDocs{docs})
	<-parallelPass
	if err != nil {
		t.Fatal(err)
	}
	if s := newSchema(got, false).arrow.String(); s != want {
		t.Errorf("serial pass: schema\n%s\nwant\n%s", s, want)
	}
	if !one.fields["m"].asJSON {
		t.Error("the map-like field did not pass maxFields: the test proves less than it should")
	}
}

// TestParallelPassReportsBadDocument: a malformed document fails the pass
// with its number, whichever pass met it.
func TestParallelPassReportsBadDocument(t *testing.T) {
	docs := variedDocs(t, 5000)
	bad := append(bson.Raw(nil), docs[4321]...)
	bad[4] = 0x55 // the first element's type: no BSON type
	docs[4321] = bad
	for name, pass := range map[string]func(context.Context, format.Documents) (*node, error){"parallel": inferParallel, "serial": inferSerial} {
		_, err := pass(context.Background(), &rawDocs{append([]bson.Raw(nil), docs...)})
		if err == nil {
			t.Fatalf("%s: no error for a malformed document", name)
		}
		if want := "document 4321:"; !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: error %q does not name %q", name, err, want)
		}
	}
}
