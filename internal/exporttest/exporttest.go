// Package exporttest holds test helpers shared by the export engine's
// tests and the end-to-end tests: building snapshots with known documents
// and reading an export back from a bucket to compare document for
// document.
package exporttest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Docs maps "rs/db.coll" to documents in order.
type Docs map[string][][]byte

// WriteSnapshot stores a snapshot with id whose replica sets each hold the
// given collections ("db.coll" → document count) of ~1 KiB documents, and
// returns the documents written.
func WriteSnapshot(t testing.TB, st snapshot.Storage, id, cluster string, created time.Time, rsNames []string, colls map[string]int, opts ...snapshot.WriterOption) Docs {
	t.Helper()
	ctx := context.Background()
	typ := snapshot.ClusterReplicaSet
	if len(rsNames) > 1 {
		typ = snapshot.ClusterShardedCluster
	}
	w, err := snapshot.NewWriter(ctx, st, snapshot.Manifest{ID: id, ClusterName: cluster, CreatedAt: created, Type: typ}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(colls))
	for n := range colls {
		names = append(names, n)
	}
	sort.Strings(names)
	docs := Docs{}
	for _, rs := range rsNames {
		if err := w.AddReplicaSet(rs); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			db, coll, _ := strings.Cut(name, ".")
			idx, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
			cw, err := w.CreateCollection(ctx, rs, db, snapshot.Metadata{CollectionName: coll, Type: snapshot.TypeCollection,
				UUID: "0123456789abcdef0123456789abcdef", Indexes: []bson.Raw{idx}})
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(len(name)), uint64(colls[name])))
			for i := 0; i < colls[name]; i++ {
				doc, _ := bson.Marshal(bson.D{
					{Key: "_id", Value: bson.NewObjectID()}, {Key: "rs", Value: rs}, {Key: "i", Value: int64(i)},
					{Key: "text", Value: prose(rng, 700)}, {Key: "d", Value: rng.NormFloat64() * 1e3}, {Key: "u", Value: "héllo \"q\" \u2028"},
					{Key: "at", Value: bson.NewDateTimeFromTime(created.Add(-time.Duration(rng.IntN(1e9)) * time.Second))},
					{Key: "tags", Value: bson.A{prose(rng, 12), int32(rng.IntN(1000)), rng.Int64()}},
					{Key: "nested", Value: bson.D{{Key: "city", Value: prose(rng, 16)}, {Key: "zip", Value: int32(rng.IntN(99999))}}},
				})
				if err := cw.Append(doc); err != nil {
					t.Fatal(err)
				}
				docs[rs+"/"+name] = append(docs[rs+"/"+name], doc)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	return docs
}

// NonEmpty drops collections without documents (they have no data files).
func (d Docs) NonEmpty() Docs {
	out := Docs{}
	for k, v := range d {
		if len(v) > 0 {
			out[k] = v
		}
	}
	return out
}

// Export is an export read back from its bucket.
type Export struct {
	Docs  Docs              // data files' documents per "rs/db.coll", in chunk order
	Files map[string][]byte // every other object under the prefix, by key
	Keys  []string          // every key under the prefix
}

// ReadExport reads every object under prefix: data files are decoded as
// canonical Extended JSON lines (their numbering must run 0..n-1 per
// replica set), other objects are kept as bytes.
func ReadExport(t testing.TB, b blob.Bucket, prefix string) Export {
	t.Helper()
	ctx := context.Background()
	ex := Export{Docs: Docs{}, Files: map[string][]byte{}}
	type chunk struct {
		key string
		n   int
	}
	chunks := map[string][]chunk{}
	for obj, err := range b.List(ctx, prefix+"/") {
		if err != nil {
			t.Fatal(err)
		}
		ex.Keys = append(ex.Keys, obj.Key)
		parts := strings.Split(strings.TrimPrefix(obj.Key, prefix+"/"), "/")
		if len(parts) == 3 && strings.HasSuffix(parts[2], ".json.gz") {
			base := strings.TrimSuffix(parts[2], ".json.gz")
			dot := strings.LastIndexByte(base, '.')
			n, err := strconv.Atoi(base[dot+1:])
			if dot < 0 || err != nil {
				t.Fatalf("data file name %s is not <rs>.<n>.json.gz", obj.Key)
			}
			id := base[:dot] + "/" + parts[0] + "." + parts[1]
			chunks[id] = append(chunks[id], chunk{obj.Key, n})
			continue
		}
		data, err := b.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		ex.Files[obj.Key] = data
	}
	for id, cs := range chunks {
		sort.Slice(cs, func(i, j int) bool { return cs[i].n < cs[j].n })
		for i, c := range cs {
			if c.n != i {
				t.Fatalf("%s: data files are not numbered 0..n-1: %v", id, cs)
			}
			data, err := b.ReadAll(ctx, c.key)
			if err != nil {
				t.Fatal(err)
			}
			ex.Docs[id] = append(ex.Docs[id], decodeLines(t, c.key, data)...)
		}
	}
	return ex
}

func decodeLines(t testing.TB, key string, data []byte) [][]byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	var out [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 32<<20)
	for sc.Scan() {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &raw); err != nil {
			t.Fatalf("%s: line is not canonical Extended JSON: %v: %s", key, err, sc.Bytes())
		}
		out = append(out, raw)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return out
}

// SameDocs fails unless got holds exactly want's documents, in order.
func SameDocs(t testing.TB, want, got Docs) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("collections: want %v, got %v", keys(want), keys(got))
	}
	for id, w := range want {
		g := got[id]
		if len(w) != len(g) {
			t.Fatalf("%s: %d documents exported, want %d", id, len(g), len(w))
		}
		for i := range w {
			if !bytes.Equal(w[i], g[i]) {
				t.Fatalf("%s: document %d differs:\n got %s\nwant %s", id, i, bson.Raw(g[i]), bson.Raw(w[i]))
			}
		}
	}
}

func keys(d Docs) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, fmt.Sprintf("%s(%d)", k, len(d[k])))
	}
	sort.Strings(out)
	return out
}

var words = strings.Fields("the quick brown fox jumps over lazy dog order item customer invoice payment shipped " +
	"pending état café naïve 東京 données über straße amount total discount region north south east west")

// prose returns about n bytes of pseudo-random words, so generated
// documents compress like real text rather than like a repeated byte.
func prose(rng *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(5) == 0 {
			b.WriteString(strconv.Itoa(rng.IntN(100000)))
		}
	}
	return b.String()
}
