package ejson

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

var (
	firstNames = []string{"Ana", "José", "Zoë", "Łukasz", "Chloé", "Mika", "Søren", "Yūki", "Amélie", "John", "Priya", "O'Brien"}
	cities     = []string{"São Paulo", "Zürich", "Kraków", "München", "Reykjavík", "New York", "東京", "Montréal", "Oslo"}
	tagWords   = []string{"new", "sale", "premium", "eco", "limited", "bestseller", "gift", "clearance"}
	sentences  = []string{
		"Fast shipping, great \"quality\" product.",
		"Works as described; would buy again.\nSecond line of the review.",
		"Café-grade espresso — smooth & rich, 10/10.",
		"Path C:\\Users\\demo\\file.txt was attached.",
		"Tabs\tand <b>markup</b> in user text.",
		"Plain ASCII text of a moderate length that describes an item in a catalogue.",
	}
)

// benchDocs returns n realistic documents of about 1 KiB: the dataset mix of
// the performance anchors (ObjectId, strings with non-ASCII and escapes,
// int32/int64, doubles, dates, nested documents, arrays, some
// decimal128/binary/null).
func benchDocs(n int) [][]byte {
	r := newRand(42)
	docs := make([][]byte, n)
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	for i := range docs {
		var oid [12]byte
		for j := range oid {
			oid[j] = byte(r.UintN(256))
		}
		created := int64(1_600_000_000_000 + r.Int64N(200_000_000_000))
		address := doc(
			bsoncore.AppendStringElement(nil, "street", fmt.Sprintf("%d %s Street", r.IntN(9999), pick(firstNames))),
			bsoncore.AppendStringElement(nil, "city", pick(cities)),
			bsoncore.AppendStringElement(nil, "zip", fmt.Sprintf("%05d", r.IntN(99999))),
			bsoncore.AppendDocumentElement(nil, "geo", doc(
				bsoncore.AppendDoubleElement(nil, "lat", r.Float64()*180-90),
				bsoncore.AppendDoubleElement(nil, "lng", r.Float64()*360-180),
			)),
		)
		var tags []bsoncore.Value
		for range 2 + r.IntN(4) {
			tags = append(tags, bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, pick(tagWords))})
		}
		var items []bsoncore.Value
		for k := range 2 + r.IntN(3) {
			price, _ := bson.ParseDecimal128(fmt.Sprintf("%d.%02d", r.IntN(500), r.IntN(100)))
			ph, pl := price.GetBytes()
			items = append(items, bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: doc(
				bsoncore.AppendStringElement(nil, "sku", fmt.Sprintf("SKU-%06d-%d", r.IntN(1_000_000), k)),
				bsoncore.AppendInt32Element(nil, "qty", int32(1+r.IntN(20))),
				bsoncore.AppendDecimal128Element(nil, "price", ph, pl),
				bsoncore.AppendDoubleElement(nil, "weight", float64(r.IntN(10000))/100),
			)})
		}
		var scores []bsoncore.Value
		for range 3 + r.IntN(5) {
			scores = append(scores, bsoncore.Value{Type: bsoncore.TypeInt32, Data: bsoncore.AppendInt32(nil, int32(r.IntN(1000)))})
		}
		var extra []byte
		if r.IntN(3) == 0 {
			extra = bsoncore.AppendNullElement(nil, "deletedAt")
		} else {
			extra = bsoncore.AppendDateTimeElement(nil, "deletedAt", created+r.Int64N(1e9))
		}
		bin := make([]byte, 16)
		for j := range bin {
			bin[j] = byte(r.UintN(256))
		}
		docs[i] = doc(
			bsoncore.AppendObjectIDElement(nil, "_id", oid),
			bsoncore.AppendStringElement(nil, "name", pick(firstNames)+" "+pick(firstNames)+"son"),
			bsoncore.AppendStringElement(nil, "email", fmt.Sprintf("user%d@example.com", r.IntN(1_000_000))),
			bsoncore.AppendInt32Element(nil, "age", int32(18+r.IntN(70))),
			bsoncore.AppendInt64Element(nil, "visits", r.Int64N(1<<40)),
			bsoncore.AppendDoubleElement(nil, "balance", float64(r.IntN(10_000_000))/100),
			bsoncore.AppendDoubleElement(nil, "ratio", r.Float64()),
			bsoncore.AppendBooleanElement(nil, "active", r.IntN(2) == 0),
			bsoncore.AppendDateTimeElement(nil, "createdAt", created),
			bsoncore.AppendDateTimeElement(nil, "updatedAt", created+r.Int64N(1e10)),
			bsoncore.AppendDocumentElement(nil, "address", address),
			bsoncore.AppendArrayElement(nil, "tags", arr(tags...)),
			bsoncore.AppendArrayElement(nil, "items", arr(items...)),
			bsoncore.AppendArrayElement(nil, "scores", arr(scores...)),
			bsoncore.AppendStringElement(nil, "review", pick(sentences)+" "+pick(sentences)),
			bsoncore.AppendStringElement(nil, "notes", pick(sentences)+" "+pick(sentences)+" "+pick(sentences)),
			bsoncore.AppendBinaryElement(nil, "uuid", 4, bin),
			extra,
		)
	}
	return docs
}

func totalSize(docs [][]byte) int64 {
	var n int64
	for _, d := range docs {
		n += int64(len(d))
	}
	return n
}

const benchDocCount = 512

// BenchmarkAppendDocument measures the writer on the realistic mix; one
// operation converts all benchDocCount documents into one reused buffer,
// newline-separated, as the export pipeline does.
func BenchmarkAppendDocument(b *testing.B) {
	docs := benchDocs(benchDocCount)
	b.SetBytes(totalSize(docs))
	buf := make([]byte, 0, 2<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = buf[:0]
		for _, d := range docs {
			var err error
			buf, err = AppendDocument(buf, d)
			if err != nil {
				b.Fatal(err)
			}
			buf = append(buf, '\n')
		}
	}
}

// BenchmarkDriverMarshalExtJSON is the same work done with the driver, for
// a side-by-side ratio.
func BenchmarkDriverMarshalExtJSON(b *testing.B) {
	docs := benchDocs(benchDocCount)
	b.SetBytes(totalSize(docs))
	buf := make([]byte, 0, 2<<20)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		buf = buf[:0]
		for _, d := range docs {
			out, err := bson.MarshalExtJSON(bson.Raw(d), true, false)
			if err != nil {
				b.Fatal(err)
			}
			buf = append(buf, out...)
			buf = append(buf, '\n')
		}
	}
}

func TestBenchDocsAreRealistic(t *testing.T) {
	docs := benchDocs(benchDocCount)
	avg := totalSize(docs) / int64(len(docs))
	if avg < 700 || avg > 1400 {
		t.Fatalf("average benchmark document is %d bytes, want about 1 KiB", avg)
	}
	for i, d := range docs {
		checkSame(t, "bench document "+itoa(i), d)
	}
}
