package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/snapex/snapex/internal/blob/local"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatalf("bson.Marshal: %v", err)
	}
	return b
}

// makeDoc returns document i of a collection; some documents carry a
// larger payload so sizes vary.
func makeDoc(t testing.TB, coll string, i int) []byte {
	t.Helper()
	pad := bytes.Repeat([]byte{'x'}, i%97)
	if i%500 == 7 {
		pad = bytes.Repeat([]byte{'y'}, 70_000)
	}
	return mustMarshal(t, bson.D{
		{Key: "_id", Value: int64(i)},
		{Key: "coll", Value: coll},
		{Key: "n", Value: int32(i * 3)},
		{Key: "f", Value: float64(i) / 7},
		{Key: "when", Value: bson.NewDateTimeFromTime(time.Unix(1_700_000_000+int64(i), 0))},
		{Key: "nested", Value: bson.D{{Key: "arr", Value: bson.A{int32(i), "s", true}}}},
		{Key: "pad", Value: string(pad)},
	})
}

// newDirStorage returns a storage in a local directory (the blob driver
// snapex uses for local snapshot storage, without per-object fsyncs) and
// that directory.
func newDirStorage(t testing.TB) (*BlobStorage, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return openDirStorage(t, dir), dir
}

// openDirStorage opens the existing directory dir as a storage.
func openDirStorage(t testing.TB, dir string) *BlobStorage {
	t.Helper()
	b, err := local.Open(local.Options{Dir: dir, DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	st, err := NewBlobStorage(b, "")
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func readAllDocs(t testing.TB, dr *DocumentReader) [][]byte {
	t.Helper()
	var out [][]byte
	for {
		doc, err := dr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next after %d docs: %v", len(out), err)
		}
		out = append(out, append([]byte(nil), doc...))
	}
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

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

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeSnapshot writes a snapshot with one collection per entry of counts
// (db "app", replica set "rs0") and returns the storage and manifest.
func writeSnapshot(t testing.TB, st Storage, id string, counts map[string]int) *Manifest {
	t.Helper()
	ctx := context.Background()
	w, err := NewWriter(ctx, st, Manifest{ID: id, ClusterName: "c0"})
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range counts {
		cw, err := w.CreateCollection(ctx, "rs0", "app", Metadata{CollectionName: name, Type: TypeCollection})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := cw.Append(makeDoc(t, name, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := cw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func concatDocs(t testing.TB, coll string, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	for i := 0; i < n; i++ {
		buf.Write(makeDoc(t, coll, i))
	}
	return buf.Bytes()
}

var _ = fmt.Sprintf
