package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/capture"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/testenv"
)

const (
	orgID   = "a0000000000000000000000a"
	groupID = "100000000000000000000001"
	roleID  = "c00000000000000000000001"
)

const exportConfig = `
database: %s
organizations:
  - id: ` + orgID + `
    name: Org
    projects:
      - id: ` + groupID + `
        name: Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "%s"}]
        accessRoles:
          - {id: ` + roleID + `, provider: AWS, local: {directory: buckets}}
`

// typedDoc is document i with a value of every BSON type FerretDB v1
// stores (see internal/capture's documentation for the ones it cannot).
func typedDoc(i int) bson.D {
	oid := bson.ObjectID{0x65, 0xa1, byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6, 7, 8}
	return bson.D{
		{Key: "_id", Value: oid},
		{Key: "double", Value: float64(i) + 0.25},
		{Key: "doubles", Value: bson.A{1e300, 5e-324, 0.1 + 0.2, float64(-i)}},
		{Key: "string", Value: fmt.Sprintf("doc %d é ✓ \x01 \"q\" \\ </script> \u2028", i)},
		{Key: "doc", Value: bson.D{{Key: "z", Value: int32(i)}, {Key: "a", Value: bson.D{{Key: "deep", Value: true}}}}},
		{Key: "array", Value: bson.A{int32(1), "two", bson.D{{Key: "three", Value: 3.0}, {Key: "inner", Value: bson.A{true}}}}},
		{Key: "emptyArray", Value: bson.A{}},
		{Key: "emptyDoc", Value: bson.D{}},
		{Key: "bin0", Value: bson.Binary{Subtype: 0, Data: []byte{byte(i), 0, 255}}},
		{Key: "bin1", Value: bson.Binary{Subtype: 1, Data: []byte{1}}},
		{Key: "bin2", Value: bson.Binary{Subtype: 2, Data: []byte{2, 2}}},
		{Key: "bin3", Value: bson.Binary{Subtype: 3, Data: bytes.Repeat([]byte{3}, 16)}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{byte(i)}, 16)}},
		{Key: "md5", Value: bson.Binary{Subtype: 5, Data: bytes.Repeat([]byte{5}, 16)}},
		{Key: "encrypted", Value: bson.Binary{Subtype: 6, Data: []byte{6}}},
		{Key: "column", Value: bson.Binary{Subtype: 7, Data: []byte{7}}},
		{Key: "sensitive", Value: bson.Binary{Subtype: 8, Data: []byte{8}}},
		{Key: "vector", Value: bson.Binary{Subtype: 9, Data: []byte{0x03, 0, 1, 2}}},
		{Key: "userBin", Value: bson.Binary{Subtype: 0x80, Data: []byte{0x80}}},
		{Key: "objectId", Value: bson.ObjectID{byte(i), 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}},
		{Key: "bool", Value: i%2 == 0},
		{Key: "date", Value: bson.DateTime(1_700_000_000_000 + int64(i))},
		{Key: "dateBefore1970", Value: bson.DateTime(-86_400_000 * int64(i+1))},
		{Key: "dateFar", Value: bson.DateTime(253_402_300_800_000 + int64(i))},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: "^a/.*\"", Options: "imsx"}},
		{Key: "int32", Value: int32(-i)},
		{Key: "int32min", Value: int32(-1 << 31)},
		{Key: "timestamp", Value: bson.Timestamp{T: uint32(i), I: 7}},
		{Key: "zeroTimestamp", Value: bson.Timestamp{}},
		{Key: "int64", Value: int64(i) << 40},
		{Key: "int64small", Value: int64(i)},
		{Key: "int64max", Value: int64(1<<63 - 1)},
	}
}

// loadSource fills a FerretDB with the collections the round trip
// restores and returns their namespaces.
func loadSource(t *testing.T, client *mongo.Client) []string {
	t.Helper()
	ctx := context.Background()
	app := client.Database("app")
	insert := func(coll *mongo.Collection, docs []any) {
		for len(docs) > 0 {
			n := min(len(docs), 500)
			if _, err := coll.InsertMany(ctx, docs[:n]); err != nil {
				t.Fatalf("insert into %s: %v", coll.Name(), err)
			}
			docs = docs[n:]
		}
	}
	var docs []any
	for i := range 300 {
		docs = append(docs, typedDoc(i))
	}
	docs = append(docs,
		bson.D{{Key: "_id", Value: bson.D{{Key: "b", Value: int32(1)}, {Key: "a", Value: int32(2)}}}, {Key: "z", Value: int32(1)}},
		bson.D{{Key: "_id", Value: "string id"}},
		bson.D{{Key: "_id", Value: int64(1) << 50}},
		bson.D{{Key: "_id", Value: 2.5}},
		bson.D{{Key: "_id", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2}}}},
		bson.D{{Key: "_id", Value: bson.DateTime(12345)}},
	)
	insert(app.Collection("types"), docs)
	if _, err := app.Collection("types").Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "int32", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
		{Keys: bson.D{{Key: "string", Value: -1}, {Key: "date", Value: 1}}, Options: options.Index().SetName("by_string_date")},
		{Keys: bson.D{{Key: "doc.z", Value: 1}}},
	}); err != nil {
		t.Fatal(err)
	}
	docs = docs[:0]
	for i := range 1500 {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "pad", Value: strings.Repeat("p", i%300)}, {Key: "n", Value: int64(i * i)}})
	}
	insert(app.Collection("with/slash and space"), docs)
	if err := app.CreateCollection(ctx, "capped", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
	insert(app.Collection("capped"), []any{bson.D{{Key: "_id", Value: int32(1)}}, bson.D{{Key: "_id", Value: int32(2)}}})
	if err := app.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Collection("empty").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	insert(app.Collection("system.js"), []any{bson.D{{Key: "_id", Value: "f"}, {Key: "value", Value: "function(){}"}}})
	docs = docs[:0]
	for i := range 500 {
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "sku", Value: fmt.Sprintf("sku-%04d", i)}, {Key: "qty", Value: int32(i % 7)}})
	}
	insert(client.Database("shop-2").Collection("orders"), docs)
	if _, err := client.Database("shop-2").Collection("orders").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	return []string{"app.capped", "app.empty", "app.system.js", "app.types", "app.with/slash and space", "shop-2.orders"}
}

// exportTarget is a bucket an export is written to.
type exportTarget struct {
	provider atlas.Provider
	roleID   string
	bucket   string
}

// exported is an export in its bucket.
type exported struct {
	bucket blob.Bucket
	prefix string
}

// exportSource captures the FerretDB at uri and exports the snapshot with
// snapex's export engine to every target (the local bucket "exports" when
// none is given; extraRoles are more access roles in the config). Each
// export is opened for reading through the export engine's own opener.
func exportSource(t *testing.T, uri, extraRoles string, targets ...exportTarget) []exported {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if len(targets) == 0 {
		targets = []exportTarget{{atlas.AWS, roleID, "exports"}}
	}
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(exportConfig, filepath.Join(dir, "snapex.db"), uri)+extraRoles))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snapDir := filepath.Join(dir, "snapshots")
	if err := os.MkdirAll(snapDir, 0o750); err != nil {
		t.Fatal(err)
	}
	snapBucket, err := local.Open(local.Options{Dir: snapDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snapBucket.Close() })
	snaps, err := snapshot.NewBlobStorage(snapBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 8, 10, 3, 27, 8, 321e6, time.UTC)
	id := atlas.NewObjectID(created)
	if _, err := capture.Take(ctx, capture.Options{SnapshotID: id, ClusterName: "Cluster0", CreatedAt: created,
		ReplicaSets: []capture.Source{{Name: "rs0", URI: uri}}, Storage: snaps}); err != nil {
		t.Fatal(err)
	}
	snap := &atlas.Snapshot{ID: id, GroupID: groupID, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotCompleted,
		SnapshotType: "onDemand", FrequencyType: "ondemand", CreatedAt: created, ReplicaSetName: "rs0",
		Members: []atlas.SnapshotMember{{ID: atlas.NewObjectID(created), ReplicaSetName: "rs0"}}}
	if err := st.CreateSnapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	dests := &stores.Destinations{Catalog: cfg.Catalog(), Opener: &stores.Opener{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng := &export.Engine{Store: st, Catalog: cfg.Catalog(), Destinations: dests,
		Snapshots: snaps, ChunkBytes: 64 << 10, Parallelism: 2, GzipLevel: 1, Log: quiet,
		Runner: &jobs.Runner{Store: st, Owner: "test", Clock: time.Now, LeaseTTL: 15 * time.Second, Log: quiet,
			Retry: jobs.Retry{MaxAttempts: 1, Backoff: time.Second, MaxBackoff: time.Second}}}
	var out []exported
	for i, tg := range targets {
		bucket := &atlas.ExportBucket{ID: atlas.NewObjectID(created.Add(time.Duration(i) * time.Second)), GroupID: groupID, BucketName: tg.bucket,
			CloudProvider: tg.provider, RoleID: tg.roleID, CreatedAt: created}
		if err := st.CreateBucket(ctx, bucket); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second).Add(time.Duration(i) * time.Second)
		job := &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: "Cluster0", SnapshotID: id,
			ExportBucketID: bucket.ID, State: atlas.ExportQueued, CreatedAt: now,
			Prefix: atlas.ExportPrefix(orgID, groupID, "Cluster0", created, now)}
		if err := st.CreateExportJob(ctx, job, nil); err != nil {
			t.Fatal(err)
		}
		if err := eng.Run(ctx, job.ID, true); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ExportJobByID(ctx, job.ID); err != nil || got.State != atlas.ExportSuccessful {
			t.Fatalf("export job to %s: %+v %v", tg.provider, got, err)
		}
		b, err := dests.Open(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		out = append(out, exported{b, job.Prefix})
	}
	return out
}

// sameNamespace compares documents, indexes and options of a source and
// a target collection.
func sameNamespace(t *testing.T, src, dst *mongo.Client, srcNS, dstNS string) {
	t.Helper()
	sdb, scoll, _ := strings.Cut(srcNS, ".")
	ddb, dcoll, _ := strings.Cut(dstNS, ".")
	s, d := src.Database(sdb).Collection(scoll), dst.Database(ddb).Collection(dcoll)
	want := canonicalDocs(t, s)
	sameDocs(t, dstNS, canonicalDocs(t, d), want)
	if g, w := strings.Join(indexSpecs(t, d), "\n"), strings.Join(indexSpecs(t, s), "\n"); g != w {
		t.Errorf("%s indexes:\n%s\nwant (from %s)\n%s", dstNS, g, srcNS, w)
	}
	if strings.HasPrefix(scoll, "system.") {
		return
	}
	so, err1 := src.Database(sdb).ListCollectionSpecifications(context.Background(), bson.D{{Key: "name", Value: scoll}})
	do, err2 := dst.Database(ddb).ListCollectionSpecifications(context.Background(), bson.D{{Key: "name", Value: dcoll}})
	if err1 != nil || err2 != nil || len(so) != 1 || len(do) != 1 {
		t.Fatalf("list %s / %s: %v %v", srcNS, dstNS, err1, err2)
	}
	if g, w := canonical(t, do[0].Options), canonical(t, so[0].Options); g != w {
		t.Errorf("%s options %s, want %s", dstNS, g, w)
	}
}

// TestRestoreSnapexExport: a FerretDB deployment with every type it
// stores is captured, exported by snapex, and restored into a fresh
// FerretDB, then restored again with renames and filters; every document
// (canonical form), index and option equals the source's.
func TestRestoreSnapexExport(t *testing.T) {
	srcURI := testenv.FerretDB(t)
	src := connect(t, srcURI)
	nss := loadSource(t, src)
	ex := exportSource(t, srcURI, "")[0]
	dst := connect(t, testenv.FerretDB(t))
	ctx := context.Background()

	rep, err := engine(t, ex.bucket, ex.prefix, dst, restore.Options{BatchDocs: 200, Parallelism: 3}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	multi := false
	for _, nr := range rep.Namespaces {
		got = append(got, nr.Source)
		if nr.Status != restore.StatusComplete || nr.Counted != nr.Expected || nr.Source != nr.Target {
			t.Errorf("%s: %+v", nr.Source, nr)
		}
		multi = multi || nr.Files > 1
	}
	// The empty collection has metadata.json and no data file.
	if fmt.Sprint(got) != fmt.Sprint(nss) || !multi {
		t.Fatalf("restored %v (several files in one: %v), want %v", got, multi, nss)
	}
	if n := len(indexSpecs(t, src.Database("app").Collection("types"))); n != 4 {
		t.Fatalf("source app.types has %d indexes, want 4", n)
	}
	for _, ns := range nss {
		sameNamespace(t, src, dst, ns, ns)
	}

	// Again, renamed and filtered, into the same target.
	o := restore.Options{Namespaces: restore.NamespaceOptions{
		Include: []string{"app.*"}, Exclude: []string{"app.capped"},
		From: []string{"app.with/$rest$", "app.$c$"}, To: []string{"other.renamed-$rest$", "copy.$c$"}}}
	rep, err = engine(t, ex.bucket, ex.prefix, dst, o).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mapped := map[string]string{}
	for _, nr := range rep.Namespaces {
		mapped[nr.Source] = nr.Target
	}
	want := map[string]string{"app.empty": "copy.empty", "app.system.js": "copy.system.js", "app.types": "copy.types",
		"app.with/slash and space": "other.renamed-slash and space"}
	if fmt.Sprint(mapped) != fmt.Sprint(want) {
		t.Fatalf("renamed %v, want %v", mapped, want)
	}
	for s, d := range want {
		sameNamespace(t, src, dst, s, d)
	}
}

// TestRestoreFromEveryProvider: the snapshot exported to S3 (versitygw),
// Azure (Azurite) and GCS (fake-gcs-server) buckets is restored from each
// bucket, read through its blob driver, into a database of its own;
// every document, index and option equals the source's.
func TestRestoreFromEveryProvider(t *testing.T) {
	srcURI := testenv.FerretDB(t)
	src := connect(t, srcURI)
	nss := loadSource(t, src)
	s3srv, az, gcs := testenv.VersityGW(t), testenv.Azurite(t), testenv.FakeGCS(t)
	s3srv.CreateBucket(t, "restore-s3")
	az.CreateContainer(t, "restore-azure")
	gcs.CreateBucket(t, "restore-gcs")
	t.Setenv("RESTORE_TEST_AK", s3srv.AccessKey)
	t.Setenv("RESTORE_TEST_SK", s3srv.SecretKey)
	t.Setenv("RESTORE_TEST_AZ", az.AccountKey)
	const s3Role, azRole, gcsRole = "c00000000000000000000002", "c00000000000000000000003", "c00000000000000000000004"
	roles := fmt.Sprintf(`          - {id: %s, provider: AWS, aws: {accessKeyId: env:RESTORE_TEST_AK, secretAccessKey: env:RESTORE_TEST_SK, region: %s, endpoint: %q, usePathStyle: true}}
          - {id: %s, provider: AZURE, azure: {accountName: %s, accountKey: env:RESTORE_TEST_AZ, endpoint: %q}}
          - {id: %s, provider: GCP, gcp: {endpoint: %q}}
`, s3Role, s3srv.Region, s3srv.Endpoint, azRole, az.AccountName, az.ServiceURL, gcsRole, gcs.Endpoint)
	exports := exportSource(t, srcURI, roles,
		exportTarget{atlas.AWS, s3Role, "restore-s3"}, exportTarget{atlas.Azure, azRole, "restore-azure"}, exportTarget{atlas.GCP, gcsRole, "restore-gcs"})
	dst := connect(t, testenv.FerretDB(t))
	for i, name := range []string{"s3", "azure", "gcs"} {
		t.Run(name, func(t *testing.T) {
			o := restore.Options{Namespaces: restore.NamespaceOptions{From: []string{"$db$.$c$"}, To: []string{name + "_$db$.$c$"}}}
			rep, err := engine(t, exports[i].bucket, exports[i].prefix, dst, o).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Namespaces) != len(nss) {
				t.Fatalf("restored %d namespaces, want %d", len(rep.Namespaces), len(nss))
			}
			for _, ns := range nss {
				sameNamespace(t, src, dst, ns, name+"_"+ns)
			}
		})
	}
}
