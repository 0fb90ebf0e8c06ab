package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/snapshot"
)

// ferretTypedDoc returns document i with a value of every BSON type FerretDB
// v1 can store (see the package documentation for those it cannot).
func ferretTypedDoc(i int) bson.D {
	oid := bson.ObjectID{0x65, 0xa1, byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6, 7, 8}
	return bson.D{
		{Key: "_id", Value: oid},
		{Key: "double", Value: float64(i) + 0.25},
		{Key: "string", Value: fmt.Sprintf("doc %d é ✓ \x01", i)},
		{Key: "doc", Value: bson.D{{Key: "z", Value: int32(i)}, {Key: "a", Value: bson.D{{Key: "deep", Value: true}}}}},
		{Key: "array", Value: bson.A{int32(1), "two", bson.D{{Key: "three", Value: 3.0}, {Key: "inner", Value: bson.A{true}}}}},
		{Key: "emptyArray", Value: bson.A{}},
		{Key: "emptyDoc", Value: bson.D{}},
		{Key: "bin0", Value: bson.Binary{Subtype: 0, Data: []byte{byte(i), 0, 255}}},
		{Key: "bin1", Value: bson.Binary{Subtype: 1, Data: []byte{1}}},
		{Key: "bin2", Value: bson.Binary{Subtype: 2, Data: []byte{2, 2}}},
		{Key: "bin3", Value: bson.Binary{Subtype: 3, Data: bytes.Repeat([]byte{3}, 16)}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{byte(i)}, 16)}},
		{Key: "md5", Value: bson.Binary{Subtype: 5, Data: bytes.Repeat([]byte{5}, 16)}},
		{Key: "encrypted", Value: bson.Binary{Subtype: 6, Data: []byte{6}}},
		{Key: "column", Value: bson.Binary{Subtype: 7, Data: []byte{7}}},
		{Key: "sensitive", Value: bson.Binary{Subtype: 8, Data: []byte{8}}},
		{Key: "vector", Value: bson.Binary{Subtype: 9, Data: []byte{0x03, 0, 1, 2}}},
		{Key: "userBin", Value: bson.Binary{Subtype: 0x80, Data: []byte{0x80}}},
		{Key: "objectId", Value: bson.ObjectID{byte(i), 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}},
		{Key: "bool", Value: i%2 == 0},
		{Key: "date", Value: bson.DateTime(1_700_000_000_000 + int64(i))},
		{Key: "dateBefore1970", Value: bson.DateTime(-86_400_000 * int64(i+1))},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: "^a/.*", Options: "imsx"}},
		{Key: "int32", Value: int32(-i)},
		{Key: "int32min", Value: int32(-1 << 31)},
		{Key: "timestamp", Value: bson.Timestamp{T: uint32(i), I: 7}},
		{Key: "zeroTimestamp", Value: bson.Timestamp{}},
		{Key: "int64", Value: int64(i) << 40},
		{Key: "int64max", Value: int64(1<<63 - 1)},
	}
}

// marshal encodes v as BSON or fails the test.
func marshal(t testing.TB, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatalf("bson.Marshal: %v", err)
	}
	return b
}

// connectClient connects the driver to uri for test set-up and checks.
func connectClient(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(2 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client
}

// insertAll inserts docs into coll in batches.
func insertAll(t testing.TB, coll *mongo.Collection, docs []any) {
	t.Helper()
	for len(docs) > 0 {
		n := min(len(docs), 1000)
		if _, err := coll.InsertMany(context.Background(), docs[:n]); err != nil {
			t.Fatalf("insert into %s: %v", coll.Name(), err)
		}
		docs = docs[n:]
	}
}

// naturalDocs returns what a driver find in natural order returns.
func naturalDocs(t testing.TB, coll *mongo.Collection) []bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetHint(bson.D{{Key: "$natural", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// snapshotDocs reads all documents of a collection back from a snapshot.
func snapshotDocs(t testing.TB, s *snapshot.Snapshot, rs, db, name string) []bson.Raw {
	t.Helper()
	dr, err := s.OpenCollection(context.Background(), rs, db, name)
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	var out []bson.Raw
	for {
		doc, err := dr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s.%s: document %d: %v", db, name, len(out), err)
		}
		out = append(out, append(bson.Raw(nil), doc...))
	}
}

// compareDocs fails the test unless got and want are the same documents,
// byte for byte, in the same order.
func compareDocs(t testing.TB, what string, got, want []bson.Raw) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d documents, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: document %d differs:\ngot:  %s\nwant: %s", what, i, got[i], want[i])
		}
	}
}

// dirStorage is snapshot storage in a local directory, which tests read
// with the MongoDB tools.
type dirStorage struct {
	*snapshot.BlobStorage
	dir string
}

// Dir returns the directory holding the objects.
func (d *dirStorage) Dir() string { return d.dir }

// newStorage returns snapshot storage in a temporary directory, on the
// local blob driver without per-object fsyncs.
func newStorage(t testing.TB) *dirStorage {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "snapshots")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := local.Open(local.Options{Dir: dir, DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	st, err := snapshot.NewBlobStorage(b, "")
	if err != nil {
		t.Fatal(err)
	}
	return &dirStorage{BlobStorage: st, dir: dir}
}

// gunzipFile returns the decompressed content of a gzip file.
func gunzipFile(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}

// testLogger logs through t.Log so a failing test shows the capture's log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
