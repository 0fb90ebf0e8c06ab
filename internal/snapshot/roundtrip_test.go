package snapshot

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

type testColl struct {
	rs, db string
	md     Metadata
	n      int
}

func testIndexes(t testing.TB, extra string) []bson.Raw {
	ix := []bson.Raw{mustMarshal(t, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})}
	if extra != "" {
		ix = append(ix, mustMarshal(t, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: extra, Value: int32(-1)}}}, {Key: "name", Value: extra + "_-1"}, {Key: "expireAfterSeconds", Value: int64(3600)}}))
	}
	return ix
}

func TestWriteReadRoundTrip(t *testing.T) {
	st, dir := newDirStorage(t)
	ctx := context.Background()
	created := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	w, err := NewWriter(ctx, st, Manifest{
		ID: "65a1b2c3d4e5f60718293a4b", ClusterName: "cluster-989", CreatedAt: created,
		Type: ClusterShardedCluster, MongodVersion: "8.0.4",
	}, WithGzipLevel(6))
	if err != nil {
		t.Fatal(err)
	}
	uuid := strings.Repeat("ab", 16)
	long := strings.Repeat("long", 80)
	colls := []testColl{
		{"shard0", "app", Metadata{CollectionName: "users", Type: TypeCollection, UUID: uuid, Indexes: testIndexes(t, "email"),
			Options: mustMarshal(t, bson.D{{Key: "validator", Value: bson.D{{Key: "age", Value: bson.D{{Key: "$gte", Value: int32(0)}}}}}})}, 3000},
		{"shard0", "app", Metadata{CollectionName: "empty", Indexes: testIndexes(t, "")}, 0},
		{"shard0", "app", Metadata{CollectionName: "../../../escape", Indexes: testIndexes(t, "")}, 5},
		{"shard0", "app", Metadata{CollectionName: "a/b c$d", Indexes: testIndexes(t, "")}, 7},
		{"shard0", "app", Metadata{CollectionName: long, Indexes: testIndexes(t, "")}, 3},
		{"shard0", "app", Metadata{CollectionName: "system.js", Indexes: testIndexes(t, "")}, 2},
		{"shard0", "app", Metadata{CollectionName: "active", Options: mustMarshal(t, bson.D{{Key: "viewOn", Value: "users"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "a", Value: true}}}}}}})}, 0},
		{"shard0", "metrics", Metadata{CollectionName: "temps", Type: TypeTimeseries, Options: mustMarshal(t, bson.D{{Key: "timeseries", Value: bson.D{{Key: "timeField", Value: "ts"}, {Key: "granularity", Value: "seconds"}}}})}, 50},
		{"shard1", "app", Metadata{CollectionName: "users", Type: TypeCollection, Indexes: testIndexes(t, "")}, 1200},
		{"../cfg", "config2", Metadata{CollectionName: "x"}, 1},
	}
	// Write collections concurrently, as the snapshot taker does.
	var wg sync.WaitGroup
	errs := make(chan error, len(colls))
	for _, c := range colls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cw, err := w.CreateCollection(ctx, c.rs, c.db, c.md)
			if err != nil {
				errs <- err
				return
			}
			for i := 0; i < c.n; i++ {
				if err := cw.Append(makeDoc(t, c.md.CollectionName, i)); err != nil {
					errs <- err
					return
				}
			}
			errs <- cw.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddReplicaSet("shard2"); err != nil {
		t.Fatal(err)
	}
	w.SetConsistency(Consistency{Guarantee: GuaranteeOplog, OplogStart: &Timestamp{T: 100, I: 1}, OplogEnd: &Timestamp{T: 105, I: 3}})
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Files are where mongodump would put them, and only there.
	var files []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	id := "65a1b2c3d4e5f60718293a4b/"
	for _, want := range []string{
		id + "manifest.json",
		id + "shard0/app/users.bson.gz",
		id + "shard0/app/users.metadata.json.gz",
		id + "shard0/app/empty.bson.gz",
		id + "shard0/app/..%2F..%2F..%2Fescape.bson.gz",
		id + "shard0/app/a%2Fb+c%24d.bson.gz",
		id + "shard0/app/system.js.bson.gz",
		id + "shard0/app/active.metadata.json.gz",
		id + "shard0/metrics/system.buckets.temps.bson.gz",
		id + "shard0/metrics/temps.metadata.json.gz",
		id + "shard1/app/users.bson.gz",
		id + "%2E%2E%2Fcfg/config2/x.bson.gz",
	} {
		if !contains(files, want) {
			t.Errorf("missing file %s; have %v", want, files)
		}
	}
	if contains(files, id+"shard0/app/active.bson.gz") {
		t.Errorf("a view got a data file")
	}
	if len(files) != 1+2*len(colls)-1 {
		t.Errorf("%d files, want %d: %v", len(files), 2*len(colls), files)
	}

	// Re-open and compare.
	s, err := Open(ctx, st, "65a1b2c3d4e5f60718293a4b")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Manifest
	if got.ClusterName != "cluster-989" || !got.CreatedAt.Equal(created) || got.Type != ClusterShardedCluster ||
		got.MongodVersion != "8.0.4" || got.Consistency.Guarantee != GuaranteeOplog || *got.Consistency.OplogEnd != (Timestamp{105, 3}) ||
		got.CompletedAt.Before(created) {
		t.Fatalf("manifest header = %+v", got)
	}
	var rsNames []string
	for _, rs := range got.ReplicaSets {
		rsNames = append(rsNames, rs.Name)
	}
	if want := []string{"../cfg", "shard0", "shard1", "shard2"}; fmt.Sprint(rsNames) != fmt.Sprint(want) {
		t.Fatalf("replica sets %v, want %v", rsNames, want)
	}
	if m.TotalDocuments() != got.TotalDocuments() || got.TotalDocuments() != 3000+5+7+3+2+50+1200+1 {
		t.Fatalf("total documents %d", got.TotalDocuments())
	}
	for _, c := range colls {
		rs, _ := got.ReplicaSet(c.rs)
		entry, ok := rs.Collection(c.db, c.md.CollectionName)
		if !ok {
			t.Fatalf("%s %s.%s missing from manifest", c.rs, c.db, c.md.CollectionName)
		}
		wantType := c.md.EffectiveType()
		if entry.Type != wantType || entry.IndexCount != len(c.md.Indexes) || entry.UUID != c.md.UUID {
			t.Errorf("%s: entry %+v", c.md.CollectionName, entry)
		}
		md, err := s.ReadMetadata(ctx, c.rs, c.db, c.md.CollectionName)
		if err != nil {
			t.Fatal(err)
		}
		if md.CollectionName != c.md.CollectionName || md.Type != wantType || md.UUID != c.md.UUID || len(md.Indexes) != len(c.md.Indexes) {
			t.Errorf("%s: metadata %+v", c.md.CollectionName, md)
		}
		for i := range md.Indexes {
			if !bytes.Equal(md.Indexes[i], c.md.Indexes[i]) {
				t.Errorf("%s: index %d = %s, want %s", c.md.CollectionName, i, md.Indexes[i], c.md.Indexes[i])
			}
		}
		if len(c.md.Options) > 0 && !bytes.Equal(md.Options, c.md.Options) {
			t.Errorf("%s: options = %s, want %s", c.md.CollectionName, md.Options, c.md.Options)
		}
		opts, err := entry.OptionsBSON()
		if err != nil || (len(c.md.Options) > 0 && !bytes.Equal(opts, c.md.Options)) {
			t.Errorf("%s: manifest options = %s (%v)", c.md.CollectionName, opts, err)
		}
		if wantType == TypeView {
			if _, err := s.OpenCollection(ctx, c.rs, c.db, c.md.CollectionName); err == nil {
				t.Errorf("OpenCollection of a view succeeded")
			}
			continue
		}
		dr, err := s.OpenCollection(ctx, c.rs, c.db, c.md.CollectionName)
		if err != nil {
			t.Fatal(err)
		}
		docs := readAllDocs(t, dr)
		if err := dr.Close(); err != nil {
			t.Fatal(err)
		}
		if len(docs) != c.n || entry.DocumentCount != int64(c.n) {
			t.Fatalf("%s: read %d docs, manifest %d, want %d", c.md.CollectionName, len(docs), entry.DocumentCount, c.n)
		}
		var size int64
		for i, d := range docs {
			if want := makeDoc(t, c.md.CollectionName, i); !bytes.Equal(d, want) {
				t.Fatalf("%s: doc %d differs", c.md.CollectionName, i)
			}
			size += int64(len(d))
		}
		if entry.BSONBytes != size {
			t.Errorf("%s: bsonBytes %d, want %d", c.md.CollectionName, entry.BSONBytes, size)
		}
		fi, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.Key(entry.DataFile))))
		if err != nil || fi.Size() != entry.CompressedBytes {
			t.Errorf("%s: compressedBytes %d, file %v (%v)", c.md.CollectionName, entry.CompressedBytes, fi, err)
		}
	}

	// The metadata file is mongodump's JSON, field order included.
	raw := gunzipFile(t, filepath.Join(dir, id+"shard0/app/users.metadata.json.gz"))
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	if want := "[options indexes uuid collectionName type]"; fmt.Sprint(keys) != want {
		t.Errorf("metadata keys %v, want %s", keys, want)
	}
	if !bytes.Contains(raw, []byte(`{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}`)) ||
		!bytes.Contains(raw, []byte(`"uuid":"`+uuid+`"`)) {
		t.Errorf("metadata not canonical EJSON: %s", raw)
	}
	if _, err := hex.DecodeString(uuid); err != nil {
		t.Fatal(err)
	}

	// A second writer for the same id is refused.
	if _, err := NewWriter(ctx, st, Manifest{ID: "65a1b2c3d4e5f60718293a4b"}); !errors.Is(err, ErrExists) {
		t.Fatalf("NewWriter on a complete snapshot: %v, want ErrExists", err)
	}
}

func contains(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

func TestWriterRules(t *testing.T) {
	st, _ := newDirStorage(t)
	ctx := context.Background()
	w, err := NewWriter(ctx, st, Manifest{ID: "snap1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, db := range []string{"..", "a/b", "", "a.b"} {
		if _, err := w.CreateCollection(ctx, "rs0", db, Metadata{CollectionName: "c"}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("database %q accepted: %v", db, err)
		}
	}
	if _, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "a\x00b"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("NUL collection name accepted: %v", err)
	}
	if _, err := w.CreateCollection(ctx, "", "db", Metadata{CollectionName: "c"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("empty replica set name accepted: %v", err)
	}
	ts, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "x", Type: TypeTimeseries})
	if err != nil {
		t.Fatal(err)
	}
	// "system.buckets.x" would share the timeseries data file.
	if _, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "system.buckets.x"}); !errors.Is(err, ErrInvalidName) {
		t.Errorf("colliding file names accepted: %v", err)
	}
	if _, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "x"}); err == nil {
		t.Errorf("duplicate collection accepted")
	}
	for _, bad := range [][]byte{nil, {5, 0, 0, 0}, {6, 0, 0, 0, 0}, {5, 0, 0, 0, 1}, {4, 0, 0, 0, 0}} {
		if err := ts.Append(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Append(%v) = %v, want ErrCorrupt", bad, err)
		}
	}
	if _, err := w.Finish(ctx); err == nil {
		t.Fatalf("Finish with an open collection writer succeeded")
	}
	if err := ts.Append(mustMarshal(t, bson.D{{Key: "a", Value: 1}})); err != nil {
		t.Fatal(err)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	view, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "v", Type: TypeView})
	if err != nil {
		t.Fatal(err)
	}
	if err := view.Append(mustMarshal(t, bson.D{})); err == nil {
		t.Errorf("Append to a view succeeded")
	}
	if err := view.Close(); err != nil {
		t.Fatal(err)
	}
	// Aborted collections leave nothing and free their names.
	ab, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	_ = ab.Append(mustMarshal(t, bson.D{}))
	if err := ab.Abort(); err != nil {
		t.Fatal(err)
	}
	if objs, _ := st.List(ctx, "snap1/rs0/db/gone"); len(objs) != 0 {
		t.Errorf("aborted collection left %v", objs)
	}

	// Before Finish the snapshot is incomplete.
	if _, err := Open(ctx, st, "snap1"); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Open before Finish: %v, want ErrIncomplete", err)
	}
	m, err := w.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ReplicaSets) != 1 || len(m.ReplicaSets[0].Collections) != 2 {
		t.Fatalf("manifest %+v", m.ReplicaSets)
	}
	if _, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "late"}); err == nil {
		t.Errorf("CreateCollection after Finish succeeded")
	}
	if _, err := Open(ctx, st, "missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing snapshot: %v", err)
	}
	if _, err := NewWriter(ctx, st, Manifest{ID: "x", Type: ClusterReplicaSet}, WithGzipLevel(12)); err == nil {
		t.Errorf("gzip level 12 accepted")
	}
}

func TestWriterAbortAndLeftovers(t *testing.T) {
	st, _ := newDirStorage(t)
	ctx := context.Background()
	w, err := NewWriter(ctx, st, Manifest{ID: "snap2"})
	if err != nil {
		t.Fatal(err)
	}
	cw, err := w.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cw.Append(makeDoc(t, "c", 1)); err != nil {
		t.Fatal(err)
	}
	if err := cw.Close(); err != nil {
		t.Fatal(err)
	}
	// A crashed writer left objects but no manifest: a new writer clears them.
	w2, err := NewWriter(ctx, st, Manifest{ID: "snap2"})
	if err != nil {
		t.Fatal(err)
	}
	if objs, _ := st.List(ctx, "snap2/"); len(objs) != 0 {
		t.Fatalf("leftovers not removed: %v", objs)
	}
	open, err := w2.CreateCollection(ctx, "rs0", "db", Metadata{CollectionName: "c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := open.Append(makeDoc(t, "c", 1)); err != nil {
		t.Fatal(err)
	}
	if err := w2.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if objs, _ := st.List(ctx, ""); len(objs) != 0 {
		t.Fatalf("Abort left %v", objs)
	}
}
