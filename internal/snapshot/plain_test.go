package snapshot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestUncompressedSnapshot stores data files as plain .bson with gzip
// level 0 and reads the same documents back.
func TestUncompressedSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := snapshot.NewDirStorage(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := snapshot.NewWriter(ctx, st, snapshot.Manifest{ID: "6a0000000000000000000001", ClusterName: "c", CreatedAt: time.Now()}, snapshot.WithGzipLevel(0))
	if err != nil {
		t.Fatal(err)
	}
	cw, err := w.CreateCollection(ctx, "rs0", "db", snapshot.Metadata{CollectionName: "coll"})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i := 0; i < 100; i++ {
		doc, _ := bson.Marshal(bson.D{{Key: "i", Value: int32(i)}})
		want = append(want, doc)
		if err := cw.Append(doc); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	file := m.ReplicaSets[0].Collections[0].DataFile
	if !strings.HasSuffix(file, "/coll.bson") {
		t.Fatalf("data file %s is not plain .bson", file)
	}
	raw, err := os.ReadFile(filepath.Join(dir, m.ID, file))
	if err != nil || !bytes.Equal(raw, bytes.Join(want, nil)) {
		t.Fatalf("plain data file differs from the documents (%v)", err)
	}
	snap, err := snapshot.Open(ctx, st, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	r, err := snap.OpenCollection(ctx, "rs0", "db", "coll")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range want {
		doc, err := r.Next()
		if err != nil || !bytes.Equal(doc, want[i]) {
			t.Fatalf("document %d: %v", i, err)
		}
	}
}
