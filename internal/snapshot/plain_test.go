package snapshot_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestUncompressedSnapshot stores data and metadata files uncompressed
// (plain .bson and .metadata.json, as mongodump without --gzip) with gzip
// level 0 and reads the same documents and metadata back.
func TestUncompressedSnapshot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := local.Open(local.Options{Dir: dir, DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := snapshot.NewBlobStorage(b, "")
	if err != nil {
		t.Fatal(err)
	}
	w, err := snapshot.NewWriter(ctx, st, snapshot.Manifest{ID: "6a0000000000000000000001", ClusterName: "c", CreatedAt: time.Now()}, snapshot.WithGzipLevel(0))
	if err != nil {
		t.Fatal(err)
	}
	md := snapshot.Metadata{CollectionName: "coll", UUID: "0123456789abcdef0123456789abcdef", Indexes: []bson.Raw{
		mustRaw(t, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}),
	}}
	cw, err := w.CreateCollection(ctx, "rs0", "db", md)
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
	mdFile := m.ReplicaSets[0].Collections[0].MetadataFile
	if !strings.HasSuffix(mdFile, "/coll.metadata.json") {
		t.Fatalf("metadata file %s is not plain .metadata.json", mdFile)
	}
	md.Type = snapshot.TypeCollection
	wantMD, err := md.MarshalMongodump()
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := os.ReadFile(filepath.Join(dir, m.ID, mdFile)); err != nil || !bytes.Equal(raw, wantMD) {
		t.Fatalf("plain metadata file is %q (%v), want %q", raw, err, wantMD)
	}
	snap, err := snapshot.Open(ctx, st, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := snap.ReadMetadata(ctx, "rs0", "db", "coll")
	if err != nil {
		t.Fatal(err)
	}
	if got.UUID != md.UUID || len(got.Indexes) != 1 || !bytes.Equal(got.Indexes[0], md.Indexes[0]) {
		t.Fatalf("metadata read back as %+v", got)
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

func mustRaw(t *testing.T, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
