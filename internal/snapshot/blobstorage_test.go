package snapshot

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"reflect"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/local"
	blobs3 "github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/testenv"
)

// storageContract checks the Storage rules every implementation must keep.
func storageContract(t *testing.T, st Storage) {
	ctx := context.Background()
	w, err := st.Create(ctx, "s/a/obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "s/a/obj"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open before Close: %v, want fs.ErrNotExist", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Close: %v", err)
	}
	if got, err := getObject(t, st, "s/a/obj"); err != nil || got != "hello" {
		t.Fatalf("after Close: %q, %v", got, err)
	}
	w, err = st.Create(ctx, "s/a/aborted")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, "gone")
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"s/b/1", "s/bc/2", "t/3"} {
		putObject(t, st, k, k)
	}
	if got := listKeys(t, st, "s/b"); !reflect.DeepEqual(got, []string{"s/b/1", "s/bc/2"}) {
		t.Fatalf("List(s/b) = %v", got)
	}
	objs, err := st.List(ctx, "s/a/")
	if err != nil || len(objs) != 1 || objs[0].Key != "s/a/obj" || objs[0].Size != 5 {
		t.Fatalf("List(s/a/) = %+v, %v", objs, err)
	}
	if err := st.Delete(ctx, "s/b"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "nothing/here"); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	if got := listKeys(t, st, ""); !reflect.DeepEqual(got, []string{"s/a/obj", "s/bc/2", "t/3"}) {
		t.Fatalf("after Delete(s/b): %v", got)
	}
	if err := st.Delete(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, st, ""); !reflect.DeepEqual(got, []string{"t/3"}) {
		t.Fatalf("after Delete(s): %v", got)
	}
	if _, err := st.Create(ctx, "../x"); err == nil {
		t.Fatalf("Create(../x) succeeded")
	}

	// A whole snapshot round trip.
	m := writeSnapshot(t, st, "snap", map[string]int{"c": 3000, "d": 10})
	s, err := Open(ctx, st, "snap")
	if err != nil {
		t.Fatal(err)
	}
	if s.Manifest.TotalDocuments() != 3010 || m.TotalBSONBytes() != s.Manifest.TotalBSONBytes() {
		t.Fatalf("manifest totals %d", s.Manifest.TotalDocuments())
	}
	dr, err := s.OpenCollection(ctx, "rs0", "app", "c")
	if err != nil {
		t.Fatal(err)
	}
	if docs := readAllDocs(t, dr); len(docs) != 3000 {
		t.Fatalf("read %d docs", len(docs))
	}
	dr.Close()
	if err := st.Delete(ctx, "snap"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, st, "snap"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open after Delete: %v", err)
	}
}

func TestStorageContractDir(t *testing.T) {
	st, _ := newDirStorage(t)
	storageContract(t, st)
}

func TestStorageContractBlobLocal(t *testing.T) {
	b, err := local.Open(local.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := NewBlobStorage(b, "snapshots/")
	if err != nil {
		t.Fatal(err)
	}
	storageContract(t, st)
}

func TestStorageContractBlobS3(t *testing.T) {
	srv := testenv.VersityGW(t)
	srv.CreateBucket(t, "snaps")
	b, err := blobs3.Open(context.Background(), blobs3.Options{
		Bucket: "snaps", Region: srv.Region, Endpoint: srv.Endpoint, UsePathStyle: true,
		AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := NewBlobStorage(b, "")
	if err != nil {
		t.Fatal(err)
	}
	storageContract(t, st)
}

func TestNewBlobStoragePrefix(t *testing.T) {
	var b blob.Bucket
	for _, p := range []string{"x", "../x/", "/x/", "a//"} {
		if _, err := NewBlobStorage(b, p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}
