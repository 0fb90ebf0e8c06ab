package export_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
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
	t       testing.TB
	dir     string
	cfg     *config.Config
	store   *store.Store
	snaps   snapshot.Storage
	snap    *atlas.Snapshot
	bucket  *atlas.ExportBucket
	docs    exporttest.Docs
	bucketD string // local bucket directory
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
func newFixture(t testing.TB, dsn string, extraRoles string, cluster string, rsNames []string, colls map[string]int, opts ...snapshot.WriterOption) *fixture {
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
	snaps, err := (&stores.Opener{}).OpenSnapshotStorage(ctx, config.SnapshotStorage{Directory: filepath.Join(dir, "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, cfg: cfg, store: st, snaps: snaps}
	created := time.Date(2026, 8, 10, 3, 27, 8, 321e6, time.UTC)
	kind := atlas.ReplicaSetSnapshot
	if len(rsNames) > 1 {
		kind = atlas.ShardedClusterSnapshot
	}
	id := atlas.NewObjectID(created)
	f.docs = exporttest.WriteSnapshot(t, snaps, id, cluster, created, rsNames, colls, opts...)
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

// jobSeq keeps fixture jobs created in one second on distinct prefixes.
var jobSeq atomic.Int64

func (f *fixture) newJob(custom ...atlas.Label) *atlas.ExportJob {
	f.t.Helper()
	now := time.Now().UTC().Truncate(time.Second)
	j := &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: f.snap.ClusterName, SnapshotID: f.snap.ID,
		ExportBucketID: f.bucket.ID, State: atlas.ExportQueued, CreatedAt: now, CustomData: custom,
		Prefix: atlas.ExportPrefix(orgID, groupID, f.snap.ClusterName, f.snap.CreatedAt, now.Add(time.Duration(jobSeq.Add(1))*time.Second))}
	if err := f.store.CreateExportJob(context.Background(), j, nil); err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) engine(owner string) *export.Engine {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &export.Engine{
		Store: f.store, Catalog: f.cfg.Catalog(), Destinations: f.destinations(&stores.Opener{}),
		Snapshots: f.snaps, ChunkBytes: 64 << 10, Parallelism: 2, GzipLevel: 1, Log: log,
		Runner: &jobs.Runner{Store: f.store, Owner: owner, Clock: time.Now, LeaseTTL: 900 * time.Millisecond, Log: log,
			Retry: jobs.Retry{MaxAttempts: 5, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second}},
	}
}

// destinations opens the fixture's export buckets with o's settings.
func (f *fixture) destinations(o *stores.Opener) *stores.Destinations {
	return &stores.Destinations{Catalog: f.cfg.Catalog(), Opener: o}
}

func (f *fixture) job(id string) *atlas.ExportJob {
	f.t.Helper()
	j, err := f.store.ExportJobByID(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return j
}

func openLocal(t *testing.T, f *fixture) blob.Bucket {
	t.Helper()
	b, err := f.destinations(&stores.Opener{}).Open(context.Background(), f.bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
