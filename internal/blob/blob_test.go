package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	"github.com/snapex/snapex/internal/blob/local"
)

func TestValidateKey(t *testing.T) {
	for _, k := range []string{
		"a", "exported_snapshots/.permissioncheck", "p/db/coll/rs0.1.json.gz", "a/.complete",
		"..a", "a..", "a/...", "sp ace", "ünï/😀", strings.Repeat("k", blob.MaxKeyLen),
	} {
		if err := blob.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	for _, k := range blobtest.InvalidKeys {
		if err := blob.ValidateKey(k); err == nil {
			t.Errorf("ValidateKey(%.40q) accepted", k)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "a", "a/", "a/b", "a/b/", "a/.", "a/..", "a/.x"} {
		if err := blob.ValidatePrefix(p); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../a", "a/../b/", "./", "a\x00", "a\\b"} {
		if err := blob.ValidatePrefix(p); err == nil {
			t.Errorf("ValidatePrefix(%q) accepted", p)
		}
	}
}

func TestError(t *testing.T) {
	cause := fmt.Errorf("api error AccessDenied: %w", fs.ErrPermission)
	err := fmt.Errorf("export: %w", &blob.Error{
		Kind: blob.KindPermissionDenied, Op: "write", Bucket: "s3://b", Key: "p/k", Err: cause,
	})
	if got, want := err.Error(), "export: blob: write s3://b/p/k: permission denied: api error AccessDenied: permission denied"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if blob.KindOf(err) != blob.KindPermissionDenied {
		t.Errorf("KindOf = %v", blob.KindOf(err))
	}
	if !errors.Is(err, blob.ErrPermissionDenied) || errors.Is(err, blob.ErrNotFound) {
		t.Error("errors.Is against the sentinels")
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Error("the cause is not reachable through Unwrap")
	}
	if blob.KindOf(nil) != blob.KindOther || blob.KindOf(errors.New("x")) != blob.KindOther {
		t.Error("KindOf of plain errors")
	}
	if blob.KindOf(fmt.Errorf("w: %w", blob.ErrTransient)) != blob.KindTransient {
		t.Error("KindOf of a wrapped sentinel")
	}
	other := &blob.Error{Kind: blob.KindOther, Op: "list", Bucket: "gs://b"}
	if errors.Is(other, blob.ErrNotFound) || other.Error() != "blob: list gs://b: error" {
		t.Errorf("KindOther error: %q", other.Error())
	}
}

// TestDeleteIgnoresNotFound and the other portable-layer rules are covered
// by the conformance suite; this checks the wrapping of driver errors on a
// canceled context, which no driver classifies itself.
func TestCanceledIsNotTransient(t *testing.T) {
	dir := t.TempDir()
	b := openLocal(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.Stat(ctx, "k")
	if err == nil || blob.KindOf(err) == blob.KindTransient || !errors.Is(err, context.Canceled) {
		t.Fatalf("Stat with a canceled context: %v (kind %v)", err, blob.KindOf(err))
	}
}

func openLocal(t *testing.T, dir string) blob.Bucket {
	t.Helper()
	b, err := local.Open(local.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}
