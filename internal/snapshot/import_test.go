package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const idIndex = `{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}`

func metaJSON(name, typ, options string) []byte {
	s := `{`
	if options != "" {
		s += `"options":` + options + `,`
	}
	s += `"indexes":[` + idIndex + `],"uuid":"0123456789abcdef0123456789abcdef","collectionName":"` + name + `"`
	if typ != "" {
		s += `,"type":"` + typ + `"`
	}
	return []byte(s + `}`)
}

type dumpFile struct {
	path string
	data []byte
}

// mongodumpFiles returns the files mongodump would write for one replica
// set under prefix (uncompressed).
func mongodumpFiles(t *testing.T, prefix string) []dumpFile {
	long := strings.Repeat("n", 250)
	longStem := EscapeCollectionName(long)
	return []dumpFile{
		{prefix + "app/users.bson", concatDocs(t, "users", 1500)},
		{prefix + "app/users.metadata.json", metaJSON("users", "collection", `{}`)},
		{prefix + "app/a%2Fb+c.bson", concatDocs(t, "a/b c", 3)},
		{prefix + "app/a%2Fb+c.metadata.json", metaJSON("a/b c", "collection", "")},
		{prefix + "app/empty.bson", nil},
		{prefix + "app/empty.metadata.json", metaJSON("empty", "collection", "")},
		{prefix + "app/active.metadata.json", metaJSON("active", "view", `{"viewOn":"users","pipeline":[{"$match":{"a":true}}]}`)},
		{prefix + "app/oldview.metadata.json", []byte(`{"options":{"viewOn":"users","pipeline":[]},"indexes":[]}`)},
		{prefix + "app/system.js.bson", concatDocs(t, "system.js", 2)},
		{prefix + "app/system.js.metadata.json", metaJSON("system.js", "collection", "")},
		{prefix + "app/system.profile.bson", concatDocs(t, "system.profile", 4)},
		{prefix + "app/system.profile.metadata.json", metaJSON("system.profile", "collection", "")},
		{prefix + "app/system.buckets.temps.bson", concatDocs(t, "temps", 20)},
		{prefix + "app/temps.metadata.json", metaJSON("temps", "timeseries", `{"timeseries":{"timeField":"ts","granularity":"seconds","bucketMaxSpanSeconds":{"$numberInt":"3600"}}}`)},
		{prefix + "app/nometa.bson", concatDocs(t, "nometa", 5)},
		{prefix + "app/" + longStem + ".bson", concatDocs(t, long, 6)},
		{prefix + "app/" + longStem + ".metadata.json", metaJSON(long, "collection", "")},
		{prefix + "shop/orders.bson", concatDocs(t, "orders", 700)},
		{prefix + "shop/orders.metadata.json", metaJSON("orders", "", "")},
		{prefix + "admin/system.users.bson", concatDocs(t, "u", 1)},
		{prefix + "admin/system.users.metadata.json", metaJSON("system.users", "collection", "")},
		{prefix + "admin/system.version.bson", concatDocs(t, "v", 1)},
		{prefix + "config/settings.bson", concatDocs(t, "s", 1)},
		{prefix + "app/.DS_Store", []byte("junk")},
	}
}

// expected user collections of mongodumpFiles and their document counts.
func expectedImport() map[string]int64 {
	return map[string]int64{
		"app.users": 1500, "app.a/b c": 3, "app.empty": 0, "app.active": 0, "app.oldview": 0,
		"app.system.js": 2, "app.temps": 20, "app.nometa": 5, "app." + strings.Repeat("n", 250): 6, "shop.orders": 700,
	}
}

func writeDump(t *testing.T, root string, files []dumpFile, gz bool) {
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		data := f.data
		if gz && !strings.HasSuffix(p, ".DS_Store") {
			p += ".gz"
			data = gzipBytes(t, data)
		}
		writeFile(t, p, data)
	}
}

func checkImported(t *testing.T, st Storage, m *Manifest, rsNames ...string) {
	t.Helper()
	ctx := context.Background()
	if len(m.ReplicaSets) != len(rsNames) {
		t.Fatalf("replica sets %+v, want %v", m.ReplicaSets, rsNames)
	}
	s, err := Open(ctx, st, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, rs := range s.Manifest.ReplicaSets {
		if rs.Name != rsNames[i] {
			t.Fatalf("replica set %d is %q, want %q", i, rs.Name, rsNames[i])
		}
		want := expectedImport()
		for _, c := range rs.Collections {
			ns := c.DB + "." + c.Name
			n, ok := want[ns]
			if !ok {
				t.Errorf("%s: unexpected collection %s", rs.Name, ns)
				continue
			}
			delete(want, ns)
			if c.DocumentCount != n {
				t.Errorf("%s: %s has %d documents, want %d", rs.Name, ns, c.DocumentCount, n)
			}
			switch c.Name {
			case "active", "oldview":
				if c.Type != TypeView || c.DataFile != "" {
					t.Errorf("%s: view %s stored as %+v", rs.Name, ns, c)
				}
				continue
			case "temps":
				if c.Type != TypeTimeseries || !strings.HasSuffix(c.DataFile, "/app/system.buckets.temps.bson.gz") {
					t.Errorf("%s: timeseries stored as %+v", rs.Name, c)
				}
			}
			dr, err := s.OpenCollection(ctx, rs.Name, c.DB, c.Name)
			if err != nil {
				t.Fatal(err)
			}
			docs := readAllDocs(t, dr)
			dr.Close()
			source := c.Name
			if c.Name == "temps" {
				source = "temps"
			}
			for j, d := range docs {
				if !bytes.Equal(d, makeDoc(t, source, j)) {
					t.Fatalf("%s: %s doc %d differs", rs.Name, ns, j)
				}
			}
			md, err := s.ReadMetadata(ctx, rs.Name, c.DB, c.Name)
			if err != nil {
				t.Fatal(err)
			}
			if c.Name != "nometa" && (len(md.Indexes) != 1 || md.UUID != "0123456789abcdef0123456789abcdef") {
				t.Errorf("%s: metadata of %s = %+v", rs.Name, ns, md)
			}
		}
		if len(want) > 0 {
			t.Errorf("%s: collections not imported: %v", rs.Name, want)
		}
	}
	skipped := map[string]string{}
	for _, sk := range m.Import.Skipped {
		skipped[sk.File] = sk.Reason
	}
	for _, rs := range rsNames {
		p := ""
		if len(rsNames) > 1 {
			p = rs + "/"
		}
		for file, reason := range map[string]string{
			p + "app/system.profile.metadata.json": "system collection",
			p + "admin":                            "internal database",
			p + "config":                           "internal database",
			p + "app/.DS_Store":                    "hidden file",
		} {
			got, ok := skipped[file]
			if !ok {
				got, ok = skipped[file+".gz"]
			}
			if !ok || got != reason {
				t.Errorf("skipped[%s] = %q, want %q (all: %v)", file, got, reason, m.Import.Skipped)
			}
		}
	}
}

func TestImportFlatDump(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "dump")
			files := append(mongodumpFiles(t, ""), dumpFile{"oplog.bson", concatDocs(t, "oplog", 3)})
			writeDump(t, src, files, gz)
			writeFile(t, filepath.Join(src, "prelude.json"), []byte(`{}`))
			st, _ := newDirStorage(t)
			created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
			m, err := Import(context.Background(), src, st, ImportOptions{
				SnapshotID: "imp1", ClusterName: "legacy", ReplicaSetName: "rs0", CreatedAt: created, MongodVersion: "7.0.14",
			})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != ClusterReplicaSet || m.ClusterName != "legacy" || !m.CreatedAt.Equal(created) ||
				m.Consistency.Guarantee != GuaranteeNone || m.MongodVersion != "7.0.14" {
				t.Fatalf("manifest header %+v", m)
			}
			checkImported(t, st, m, "rs0")
			var sawOplog bool
			for _, sk := range m.Import.Skipped {
				sawOplog = sawOplog || strings.HasPrefix(sk.File, "oplog.bson")
			}
			if !sawOplog {
				t.Errorf("oplog.bson not recorded as skipped: %v", m.Import.Skipped)
			}
		})
	}
}

func TestImportPerReplicaSetDump(t *testing.T) {
	src := filepath.Join(t.TempDir(), "dump")
	writeDump(t, src, mongodumpFiles(t, "shard0/"), true)
	writeDump(t, src, mongodumpFiles(t, "shard1/"), false)
	writeDump(t, src, []dumpFile{{"shard1/oplog.bson", concatDocs(t, "o", 1)}}, false)
	st, _ := newDirStorage(t)
	// DefaultReplicaSetName is ignored: the directories name the replica sets.
	m, err := Import(context.Background(), src, st, ImportOptions{SnapshotID: "imp2", ClusterName: "sh", DefaultReplicaSetName: "rs0"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != ClusterShardedCluster {
		t.Fatalf("type %s", m.Type)
	}
	checkImported(t, st, m, "shard0", "shard1")
}

// Content decides about compression when the name does not say .gz.
func TestImportGzipContentWithoutSuffix(t *testing.T) {
	src := filepath.Join(t.TempDir(), "dump")
	writeFile(t, filepath.Join(src, "app", "c.bson"), gzipBytes(t, concatDocs(t, "c", 40)))
	writeFile(t, filepath.Join(src, "app", "c.metadata.json"), gzipBytes(t, metaJSON("c", "collection", "")))
	st, _ := newDirStorage(t)
	// A flat dump takes DefaultReplicaSetName when no ReplicaSetName is given.
	m, err := Import(context.Background(), src, st, ImportOptions{SnapshotID: "imp3", DefaultReplicaSetName: "rs0"})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := m.ReplicaSets[0].Collection("app", "c"); !ok || c.DocumentCount != 40 || m.ReplicaSets[0].Name != "rs0" {
		t.Fatalf("manifest %+v", m.ReplicaSets)
	}
}

func TestImportErrors(t *testing.T) {
	good := func(t *testing.T, src string) {
		writeFile(t, filepath.Join(src, "app", "ok.bson"), concatDocs(t, "ok", 3))
		writeFile(t, filepath.Join(src, "app", "ok.metadata.json"), metaJSON("ok", "collection", ""))
	}
	truncated := concatDocs(t, "bad", 10)
	truncated = truncated[:len(truncated)-7]
	cases := []struct {
		name  string
		build func(t *testing.T, src string)
		opts  ImportOptions
		want  []string // substrings of the error
	}{
		{"bson at top", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "users.bson"), concatDocs(t, "u", 1))
		}, ImportOptions{}, []string{"users.bson", "outside a database directory"}},
		{"unexpected file", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "notes.txt"), []byte("x"))
		}, ImportOptions{}, []string{"app/notes.txt", "unexpected entry"}},
		{"metadata without data", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "lost.metadata.json"), metaJSON("lost", "collection", ""))
		}, ImportOptions{}, []string{"lost.metadata.json", "without a data file"}},
		{"truncated bson", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "bad.bson"), truncated)
		}, ImportOptions{}, []string{"app/bad.bson", "document 9 at offset", "truncated document"}},
		{"truncated gzip", func(t *testing.T, src string) {
			good(t, src)
			z := gzipBytes(t, concatDocs(t, "bad", 500))
			writeFile(t, filepath.Join(src, "app", "bad.bson.gz"), z[:len(z)/2])
		}, ImportOptions{}, []string{"app/bad.bson.gz", "compressed stream ends early"}},
		{"gz name without gzip", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "bad.bson.gz"), concatDocs(t, "bad", 2))
		}, ImportOptions{}, []string{"app/bad.bson.gz", "not gzip"}},
		{"bad metadata", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "bad.bson"), concatDocs(t, "bad", 2))
			writeFile(t, filepath.Join(src, "app", "bad.metadata.json"), []byte(`{"indexes":`))
		}, ImportOptions{}, []string{"app/bad.metadata.json", "parse metadata"}},
		{"timeseries without buckets", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "ts.metadata.json"), metaJSON("ts", "timeseries", `{"timeseries":{"timeField":"t"}}`))
		}, ImportOptions{}, []string{"ts.metadata.json", "bucket file"}},
		{"invalid database directory", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "my.db", "c.bson"), concatDocs(t, "c", 1))
		}, ImportOptions{}, []string{"my.db", "not a valid database name"}},
		{"duplicate gzip and plain", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "app", "ok.bson.gz"), gzipBytes(t, concatDocs(t, "ok", 3)))
		}, ImportOptions{}, []string{"ok.bson", "duplicate"}},
		{"mixed layout", func(t *testing.T, src string) {
			good(t, src)
			writeFile(t, filepath.Join(src, "rs1", "app", "c.bson"), concatDocs(t, "c", 1))
		}, ImportOptions{}, []string{"mixed layout"}},
		{"missing replica set name", good, ImportOptions{ReplicaSetName: "-"}, []string{"ReplicaSetName is required"}},
		{"replica set name for per-rs dump", func(t *testing.T, src string) {
			good(t, filepath.Join(src, "rs1"))
		}, ImportOptions{}, []string{"per replica set"}},
		{"symlink out of the dump", func(t *testing.T, src string) {
			good(t, src)
			outside := filepath.Join(filepath.Dir(src), "outside.bson")
			writeFile(t, outside, concatDocs(t, "secret", 1))
			if err := os.Symlink(outside, filepath.Join(src, "app", "evil.bson")); err != nil {
				t.Fatal(err)
			}
		}, ImportOptions{}, []string{"evil.bson"}},
		{"bad snapshot id", good, ImportOptions{SnapshotID: "../x"}, []string{"snapshot id"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "dump")
			c.build(t, src)
			st, _ := newDirStorage(t)
			opts := c.opts
			if opts.SnapshotID == "" {
				opts.SnapshotID = "imp"
			}
			switch opts.ReplicaSetName {
			case "":
				opts.ReplicaSetName = "rs0"
			case "-":
				opts.ReplicaSetName = ""
			}
			_, err := Import(context.Background(), src, st, opts)
			if err == nil {
				t.Fatalf("Import succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if objs, lerr := st.List(context.Background(), ""); lerr != nil || len(objs) != 0 {
				t.Errorf("failed import left objects %v (%v)", objs, lerr)
			}
			if _, oerr := Open(context.Background(), st, opts.SnapshotID); oerr == nil {
				t.Errorf("failed import left an openable snapshot")
			}
			if strings.Contains(c.name, "truncated") && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error %v does not wrap ErrCorrupt", err)
			}
		})
	}
}
