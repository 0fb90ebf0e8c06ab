package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/snapex/snapex/internal/blob"
)

func readString(t *testing.T, b blob.Bucket, key string) (string, error) {
	t.Helper()
	data, err := b.ReadAll(context.Background(), key)
	return string(data), err
}

// Delete removes the directories it leaves empty, and no others.
func TestDeleteRemovesEmptyDirectories(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	defer b.Close()
	ctx := context.Background()
	for _, k := range []string{"s/rs/db1/a", "s/rs/db2/b"} {
		if err := b.WriteAll(ctx, k, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx, "s/rs/db1/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "s", "rs", "db1")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty directory db1 left behind: %v", err)
	}
	if got, err := readString(t, b, "s/rs/db2/b"); err != nil || got != "s/rs/db2/b" {
		t.Fatalf("neighbour: %q, %v", got, err)
	}
	if err := b.Delete(ctx, "s/rs/db2/b"); err != nil {
		t.Fatal(err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 || ents[0].Name() != tmpDir {
		t.Fatalf("bucket directory holds %v (%v), want only %s", ents, err, tmpDir)
	}
	// A write into a directory removed under its cached handle makes it again.
	if err := b.WriteAll(ctx, "s/rs/db1/a", []byte("again"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, b, "s/rs/db1/a"); err != nil || got != "again" {
		t.Fatalf("after rewrite: %q, %v", got, err)
	}
}

// Reads go through cached directory handles but still see a directory
// replaced behind the bucket's back, follow a symbolic link that stays
// inside the directory and refuse one that leaves it.
func TestReadsThroughCachedDirectories(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "bucket")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir)
	defer b.Close()
	ctx := context.Background()
	if err := b.WriteAll(ctx, "d/x", []byte("one"), nil); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, b, "d/x"); err != nil || got != "one" {
		t.Fatalf("first read: %q, %v", got, err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "d")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "d", "x"), []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, b, "d/x"); err != nil || got != "two" {
		t.Fatalf("after the directory was replaced: %q, %v", got, err)
	}
	if _, err := readString(t, b, "d/missing"); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("missing object: %v, want not found", err)
	}

	if err := os.Symlink("x", filepath.Join(dir, "d", "inside")); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, b, "d/inside"); err != nil || got != "two" {
		t.Fatalf("link inside the bucket: %q, %v", got, err)
	}
	if err := os.WriteFile(filepath.Join(parent, "secret"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(parent, "secret"), filepath.Join(dir, "d", "outside")); err != nil {
		t.Fatal(err)
	}
	r, err := b.NewReader(ctx, "d/outside")
	if err == nil {
		data, _ := io.ReadAll(r)
		r.Close()
		t.Fatalf("read %q through a link leaving the bucket", data)
	}
}
