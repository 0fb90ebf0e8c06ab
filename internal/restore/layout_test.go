package restore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/blob/local"
)

// writeTree writes rel → content under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	md := `{"collectionName":"x","indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"options":{"capped":true,"size":{"$numberLong":"4096"}},"type":"collection","uuid":"00112233445566778899aabbccddeeff"}`
	writeTree(t, dir, map[string]string{
		"p/x/.complete":                   `{"clusterName":"c","totalFiles":7}`,
		"p/x/db/a/rs0.0.json.gz":          "",
		"p/x/db/a/rs0.1.json.gz":          "",
		"p/x/db/a/shard1.0.json.gz":       "",
		"p/x/db/a/metadata.json":          md,
		"p/x/db/with/slash/rs0.0.json.gz": "",
		"p/x/db/with/slash/metadata.json": md,
		"p/x/db/empty/metadata.json":      md,
		"p/x/db/a/notes.txt":              "",
		"p/other/db/b/rs0.0.json.gz":      "",
	})
	b, err := local.Open(local.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	ex, err := Scan(ctx, b, "p/x/", false)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ns := range ex.Namespaces {
		names = append(names, ns.Name())
	}
	if strings.Join(names, ",") != "db.a,db.empty,db.with/slash" {
		t.Fatalf("namespaces %v", names)
	}
	a := ex.Namespaces[0]
	if len(a.Files) != 3 || a.Files[0].ReplicaSet != "rs0" || a.Files[1].N != 1 || a.Files[2].ReplicaSet != "shard1" {
		t.Errorf("db.a files %+v", a.Files)
	}
	if m := a.Metadata; m == nil || m.CollectionName != "x" || len(m.Indexes) != 1 || m.UUID != "00112233445566778899aabbccddeeff" || m.Type != "collection" {
		t.Errorf("metadata %+v", m)
	} else if size, _ := m.Options.Lookup("size").AsInt64OK(); size != 4096 {
		t.Errorf("options %s", m.Options)
	}
	if ex.Complete == nil || *ex.Complete.TotalFiles != 7 || len(ex.Problems) != 0 || len(ex.Notes) != 1 {
		t.Errorf("complete %+v problems %q notes %q", ex.Complete, ex.Problems, ex.Notes)
	}

	// totalFiles counting data files only is accepted too; more is not.
	for total, ok := range map[string]bool{"4": true, "8": false} {
		writeTree(t, dir, map[string]string{"p/x/.complete": `{"totalFiles":` + total + `}`})
		_, err := Scan(ctx, b, "p/x", false)
		if (err == nil) != ok || !ok && !errors.Is(err, ErrIncomplete) {
			t.Errorf("totalFiles %s: %v", total, err)
		}
	}
	// A gap in the numbering names the missing file.
	if err := os.Remove(filepath.Join(dir, "p/x/db/a/rs0.0.json.gz")); err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, map[string]string{"p/x/.complete": `{}`})
	if _, err := Scan(ctx, b, "p/x", false); err == nil || !strings.Contains(err.Error(), "data file p/x/db/a/rs0.0.json.gz is missing") {
		t.Errorf("gap: %v", err)
	}
	ex, err = Scan(ctx, b, "p/x", true)
	if err != nil || len(ex.Problems) != 1 {
		t.Errorf("allowed gap: %v %q", err, ex.Problems)
	}
	// Bad metadata.json is named.
	writeTree(t, dir, map[string]string{"p/x/db/empty/metadata.json": `{"indexes": 3}`})
	if _, err := Scan(ctx, b, "p/x", true); err == nil || !strings.Contains(err.Error(), "p/x/db/empty/metadata.json: metadata.json: indexes is a") {
		t.Errorf("bad metadata: %v", err)
	}
}

func TestOpenLocal(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{dir, "file://" + dir} {
		b, prefix, err := OpenLocal(context.Background(), src)
		if err != nil || prefix != "" {
			t.Fatalf("%s: %v %q", src, err, prefix)
		}
		b.Close()
	}
	for _, src := range []string{"s3://bucket/prefix", "file://host/dir", filepath.Join(dir, "missing")} {
		if _, _, err := OpenLocal(context.Background(), src); err == nil {
			t.Errorf("%s opened", src)
		}
	}
}
