package snapshot

import (
	"context"
	"path/filepath"
	"testing"
)

// The dump's own record of the server version wins over the caller's
// (configured) one; without a readable one the caller's stays.
func TestImportTakesPreludeVersion(t *testing.T) {
	prelude := []byte(`{"ServerVersion":"8.0.3","ToolVersion":"100.10.0"}`)
	cases := []struct {
		name, file string
		data       []byte
		want       string
	}{
		{"plain", "prelude.json", prelude, "8.0.3"},
		{"gzip", "prelude.json.gz", gzipBytes(t, prelude), "8.0.3"},
		{"no version", "prelude.json", []byte(`{"ToolVersion":"100.10.0"}`), "7.0.14"},
		{"malformed", "prelude.json", []byte(`{"ServerVersion":`), "7.0.14"},
		{"absent", "", nil, "7.0.14"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "dump")
			writeDump(t, src, mongodumpFiles(t, ""), false)
			if c.file != "" {
				writeFile(t, filepath.Join(src, c.file), c.data)
			}
			st, _ := newDirStorage(t)
			m, err := Import(context.Background(), src, st, ImportOptions{SnapshotID: "pre1", ClusterName: "c", ReplicaSetName: "rs0", MongodVersion: "7.0.14"})
			if err != nil {
				t.Fatal(err)
			}
			if m.MongodVersion != c.want {
				t.Fatalf("mongodVersion %q, want %q", m.MongodVersion, c.want)
			}
		})
	}
}
