package restore_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

// connect connects the driver to uri for the test's lifetime.
func connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(2 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// gz compresses each member separately and concatenates them, as snapex
// and pigz write multi-member files.
func gz(t testing.TB, members ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, m := range members {
		zw := gzip.NewWriter(&out)
		if _, err := zw.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// writeFiles writes rel → content under dir.
func writeFiles(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// openDir opens dir as a local bucket.
func openDir(t testing.TB, dir string) blob.Bucket {
	t.Helper()
	b, err := local.Open(local.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// engine returns an engine restoring the export under prefix in b into
// the deployment of client, with progress kept in the target.
func engine(t testing.TB, b blob.Bucket, prefix string, client *mongo.Client, o restore.Options) *restore.Engine {
	return &restore.Engine{Source: b, Prefix: prefix, SourceName: "test", Client: client,
		Progress: restore.NewMongoProgress(client, ""), Options: o, Log: testLogger(t)}
}

// canonicalDocs returns every document of coll in canonical Extended JSON,
// keyed by the canonical form of its _id.
func canonicalDocs(t testing.TB, coll *mongo.Collection) map[string]string {
	t.Helper()
	ctx := context.Background()
	cur, err := coll.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	out := map[string]string{}
	for cur.Next(ctx) {
		id := canonical(t, bson.D{{Key: "_id", Value: cur.Current.Lookup("_id")}})
		if _, dup := out[id]; dup {
			t.Fatalf("%s: _id %s twice", coll.Name(), id)
		}
		out[id] = canonical(t, cur.Current)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(v, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameDocs fails unless got and want hold the same documents.
func sameDocs(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	bad := 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			t.Errorf("%s: document %s missing", what, id)
		case g != w:
			t.Errorf("%s: document %s differs:\n got  %s\n want %s", what, id, g, w)
		default:
			continue
		}
		if bad++; bad > 5 {
			t.FailNow()
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("%s: unexpected document %s", what, id)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d documents, want %d", what, len(got), len(want))
	}
}

// indexSpecs returns listIndexes' documents of coll in canonical Extended
// JSON without "ns", sorted by name.
func indexSpecs(t testing.TB, coll *mongo.Collection) []string {
	t.Helper()
	ctx := context.Background()
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []string
	for cur.Next(ctx) {
		elems, _ := cur.Current.Elements()
		d := bson.D{}
		for _, e := range elems {
			if e.Key() != "ns" {
				d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		out = append(out, canonical(t, d))
	}
	sort.Strings(out)
	return out
}

// testLogger logs through t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testLoggerTo logs through t.Log and into w.
func testLoggerTo(t testing.TB, w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(tWriter{t}, w), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
