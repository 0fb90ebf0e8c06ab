package export_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

const (
	orgID   = "a0000000000000000000000a"
	groupID = "100000000000000000000001"
	localRl = "c00000000000000000000001"
	s3Role  = "c00000000000000000000002"
)

// fixture is a store with one completed snapshot and one bucket.
type fixture struct {
	t       *testing.T
	dir     string
	cfg     *config.Config
	store   *store.Store
	snaps   snapshot.Storage
	snap    *atlas.Snapshot
	bucket  *atlas.ExportBucket
	docs    map[string][][]byte // "rs/db.coll" → documents in order
	bucketD string              // local bucket directory
}

const fixtureConfig = `
database: %s
organizations:
  - id: ` + orgID + `
    name: Org
    projects:
      - id: ` + groupID + `
        name: Project
        clusters:
          - name: Cluster0
            labels: [{key: env, value: test}]
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
          - name: Sharded0
            type: SHARDED
            replicaSets:
              - {name: shard0, uri: "mongodb://127.0.0.1:1"}
              - {name: shard1, uri: "mongodb://127.0.0.1:1"}
        accessRoles:
          - {id: ` + localRl + `, provider: AWS, local: {directory: buckets}}
%s
`

// newFixture builds the store, a snapshot of cluster with the given
// collections (name → document count) on each replica set, and a bucket.
func newFixture(t *testing.T, dsn string, extraRoles string, cluster string, rsNames []string, colls map[string]int) *fixture {
	t.Helper()
	dir := t.TempDir()
	if dsn == "" {
		dsn = filepath.Join(dir, "snapex.db")
	}
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(fixtureConfig, dsn, extraRoles)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snaps, err := snapshot.NewDirStorage(filepath.Join(dir, "snapshots"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, cfg: cfg, store: st, snaps: snaps, docs: map[string][][]byte{}}
	created := time.Date(2026, 8, 10, 3, 27, 8, 321e6, time.UTC)
	kind, typ := atlas.ReplicaSetSnapshot, snapshot.ClusterReplicaSet
	if len(rsNames) > 1 {
		kind, typ = atlas.ShardedClusterSnapshot, snapshot.ClusterShardedCluster
	}
	id := atlas.NewObjectID(created)
	w, err := snapshot.NewWriter(ctx, snaps, snapshot.Manifest{ID: id, ClusterName: cluster, CreatedAt: created, Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(colls))
	for n := range colls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, rs := range rsNames {
		if err := w.AddReplicaSet(rs); err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			db, coll, _ := strings.Cut(name, ".")
			idx, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
			cw, err := w.CreateCollection(ctx, rs, db, snapshot.Metadata{CollectionName: coll, Type: snapshot.TypeCollection, UUID: "0123456789abcdef0123456789abcdef", Indexes: []bson.Raw{idx}})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < colls[name]; i++ {
				doc, _ := bson.Marshal(bson.D{
					{Key: "_id", Value: bson.NewObjectID()}, {Key: "rs", Value: rs}, {Key: "i", Value: int64(i)},
					{Key: "pad", Value: strings.Repeat("x", 900)}, {Key: "d", Value: 1.5}, {Key: "u", Value: "héllo \"q\" \u2028"},
				})
				if err := cw.Append(doc); err != nil {
					t.Fatal(err)
				}
				f.docs[rs+"/"+name] = append(f.docs[rs+"/"+name], doc)
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	f.snap = &atlas.Snapshot{ID: id, GroupID: groupID, ClusterName: cluster, Kind: kind, Status: atlas.SnapshotCompleted,
		SnapshotType: "onDemand", FrequencyType: "ondemand", CreatedAt: created, ReplicaSetName: rsNames[0]}
	for _, rs := range rsNames {
		f.snap.Members = append(f.snap.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(created), ReplicaSetName: rs})
	}
	if err := st.CreateSnapshot(ctx, f.snap); err != nil {
		t.Fatal(err)
	}
	f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(created), GroupID: groupID, BucketName: "exports", CloudProvider: atlas.AWS, RoleID: localRl, CreatedAt: created}
	if err := st.CreateBucket(ctx, f.bucket); err != nil {
		t.Fatal(err)
	}
	f.bucketD = filepath.Join(dir, "buckets", "exports")
	return f
}

func (f *fixture) newJob(custom ...atlas.Label) *atlas.ExportJob {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	j := &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: f.snap.ClusterName, SnapshotID: f.snap.ID,
		ExportBucketID: f.bucket.ID, State: atlas.ExportQueued, CreatedAt: now, CustomData: custom,
		Prefix: atlas.ExportPrefix(orgID, groupID, f.snap.ClusterName, f.snap.CreatedAt, now)}
	if err := f.store.CreateExportJob(context.Background(), j, nil); err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) engine(owner string) *export.Engine {
	return &export.Engine{
		Store: f.store, Catalog: f.cfg.Catalog(), Destinations: &export.Destinations{Catalog: f.cfg.Catalog()},
		Snapshots: f.snaps, Owner: owner, LeaseTTL: 900 * time.Millisecond, ChunkBytes: 64 << 10, Parallelism: 2,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func (f *fixture) job(id string) *atlas.ExportJob {
	f.t.Helper()
	j, err := f.store.ExportJobByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

// readExport reads every object under the job's prefix from b: the data
// files' documents per "rs/db.coll" (in chunk order), and the other
// objects' bytes by key.
func readExport(t *testing.T, b blob.Bucket, prefix string) (docs map[string][][]byte, files map[string][]byte, keys []string) {
	t.Helper()
	ctx := context.Background()
	docs, files = map[string][][]byte{}, map[string][]byte{}
	type chunk struct {
		key string
		n   int
	}
	chunks := map[string][]chunk{}
	for obj, err := range b.List(ctx, prefix+"/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
		rel := strings.TrimPrefix(obj.Key, prefix+"/")
		parts := strings.Split(rel, "/")
		if len(parts) == 3 && strings.HasSuffix(parts[2], ".json.gz") {
			var rs string
			var n int
			base := strings.TrimSuffix(parts[2], ".json.gz")
			dot := strings.LastIndexByte(base, '.')
			rs = base[:dot]
			fmt.Sscanf(base[dot+1:], "%d", &n)
			id := rs + "/" + parts[0] + "." + parts[1]
			chunks[id] = append(chunks[id], chunk{obj.Key, n})
			continue
		}
		data, err := b.ReadAll(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		files[obj.Key] = data
	}
	for id, cs := range chunks {
		sort.Slice(cs, func(i, j int) bool { return cs[i].n < cs[j].n })
		for i, c := range cs {
			if c.n != i {
				t.Fatalf("%s: chunk numbers are not 0..n-1: %v", id, cs)
			}
			data, err := b.ReadAll(ctx, c.key)
			if err != nil {
				t.Fatal(err)
			}
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: %v", c.key, err)
			}
			sc := bufio.NewScanner(zr)
			sc.Buffer(make([]byte, 1<<20), 32<<20)
			for sc.Scan() {
				var raw bson.Raw
				if err := bson.UnmarshalExtJSON(sc.Bytes(), true, &raw); err != nil {
					t.Fatalf("%s: line is not canonical EJSON: %v: %s", c.key, err, sc.Bytes())
				}
				docs[id] = append(docs[id], raw)
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return docs, files, keys
}

func sameDocs(t *testing.T, want, got map[string][][]byte) {
	t.Helper()
	if len(want) != len(got) {
		var a, b []string
		for k := range want {
			a = append(a, k)
		}
		for k := range got {
			b = append(b, k)
		}
		sort.Strings(a)
		sort.Strings(b)
		t.Fatalf("collections: want %v, got %v", a, b)
	}
	for id, w := range want {
		g := got[id]
		if len(w) != len(g) {
			t.Fatalf("%s: %d documents exported, want %d", id, len(g), len(w))
		}
		for i := range w {
			if !bytes.Equal(w[i], g[i]) {
				t.Fatalf("%s: document %d differs:\n got %s\nwant %s", id, i, bson.Raw(g[i]), bson.Raw(w[i]))
			}
		}
	}
}

func openLocal(t *testing.T, f *fixture) blob.Bucket {
	t.Helper()
	b, err := (&export.Destinations{Catalog: f.cfg.Catalog()}).Open(context.Background(), f.bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

var _ = os.Getenv
