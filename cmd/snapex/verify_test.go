package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/manifest"
)

// writeExport lays out a plain two-file export (Atlas's shape) in dir.
func writeExport(t *testing.T, dir string) {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("{\"_id\":{\"$numberInt\":\"1\"}}\n{\"_id\":{\"$numberInt\":\"2\"}}\n"))
	zw.Close()
	files := map[string][]byte{
		".complete":                 []byte(`{"orgId":"x","totalFiles":2,"labels":[],"customData":[]}`),
		"shop/orders/metadata.json": []byte(`{"collectionName":"orders","indexes":[],"options":{}}`),
		"shop/orders/rs0.0.json.gz": gz.Bytes(),
	}
	for k, v := range files {
		p := filepath.Join(dir, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, v, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func runVerify(args ...string) (string, error) {
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"verify"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	writeExport(t, dir)
	out, err := runVerify(dir)
	if err != nil || !strings.Contains(out, "3 file(s) checked against .complete and metadata.json (no manifest): verified") {
		t.Fatalf("good export: %v\n%s", err, out)
	}
	if out, err := runVerify("file://" + dir); err != nil {
		t.Fatalf("file:// URL: %v\n%s", err, out)
	}
	gz := filepath.Join(dir, "shop", "orders", "rs0.0.json.gz")
	body, _ := os.ReadFile(gz)
	os.WriteFile(gz, body[:len(body)-6], 0o644)
	out, err = runVerify(dir)
	if !errors.Is(err, manifest.ErrFailed) || !strings.Contains(out, "FAIL    shop/orders/rs0.0.json.gz") {
		t.Fatalf("truncated file: %v\n%s", err, out)
	}
	if _, err := runVerify("ftp://bucket/prefix"); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("unknown scheme: %v", err)
	}
}

// TestVerifyNamesAMissingOrEmptySource: a mistyped file:// path is
// reported as missing, naming what was given, and is not created; an
// empty directory is no export.
func TestVerifyNamesAMissingOrEmptySource(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "exports", "typo")
	_, err := runVerify("file://" + missing)
	if err == nil || !strings.Contains(err.Error(), "file://"+missing) || !strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("missing directory: %v; want an error naming file://%s as missing", err, missing)
	}
	if _, err := os.Stat(filepath.Join(root, "exports")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("verify of a missing directory created it: %v", err)
	}
	empty := t.TempDir()
	for _, src := range []string{empty, "file://" + empty} {
		_, err := runVerify(src)
		if err == nil || !strings.Contains(err.Error(), src) || !strings.Contains(err.Error(), "no export there") {
			t.Fatalf("empty directory %s: %v; want an error naming it as holding no export", src, err)
		}
	}
}
