package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func snapshotConfig(ferretURI, s3Endpoint string) string {
	return `
database: snapex.db
snapshots: {serverSelectionTimeoutSeconds: 2, connectTimeoutSeconds: 2}
exports: {chunkMiB: 1}
organizations:
  - id: ` + orgID + `
    name: Snap Org
    projects:
      - id: ` + groupID + `
        name: Snap Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "` + ferretURI + `"}]
          - name: Gone
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1/?connect=direct"}]
        accessRoles:
          - id: ` + crashRole + `
            provider: AWS
            aws: {accessKeyId: env:E2E_S3_AK, secretAccessKey: env:E2E_S3_SK, region: us-east-1, endpoint: ` + s3Endpoint + `, usePathStyle: true}
apiKeys:
  - publicKey: ` + pubKey + `
    privateKey: file:secrets/key
    roles: [{role: ORG_OWNER, orgId: ` + orgID + `}]
`
}

// TestSnapshotFromFerretDBThenExport takes a snapshot of a live
// MongoDB-wire server through the SDK, exports it to S3 and compares the
// bucket's documents with what the server holds; then exercises retention,
// deletion and an unreachable cluster.
func TestSnapshotFromFerretDBThenExport(t *testing.T) {
	uri := testenv.FerretDB(t)
	ctx := context.Background()
	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Disconnect(ctx)
	want := exporttest.Docs{}
	for db, colls := range map[string][]string{"shop": {"orders", "items"}, "crm": {"people"}} {
		for _, coll := range colls {
			var batch []any
			for i := 0; i < 700; i++ {
				batch = append(batch, bson.D{
					{Key: "_id", Value: bson.NewObjectID()}, {Key: "i", Value: int32(i)}, {Key: "big", Value: int64(i) << 40},
					{Key: "price", Value: float64(i) / 7}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(i)*3600, 0))},
					{Key: "bin", Value: bson.Binary{Subtype: 4, Data: []byte(fmt.Sprintf("%016d", i))}},
					{Key: "re", Value: bson.Regex{Pattern: "^a.*", Options: "i"}}, {Key: "ts", Value: bson.Timestamp{T: uint32(i), I: 1}},
					{Key: "tags", Value: bson.A{"x", bson.D{{Key: "n", Value: int32(i)}}}}, {Key: "name", Value: fmt.Sprintf("naïve \"%d\"", i)},
				})
			}
			if _, err := mc.Database(db).Collection(coll).InsertMany(ctx, batch); err != nil {
				t.Fatal(err)
			}
			cur, err := mc.Database(db).Collection(coll).Find(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for cur.Next(ctx) {
				want["rs0/"+db+"."+coll] = append(want["rs0/"+db+"."+coll], append([]byte(nil), cur.Current...))
			}
			cur.Close(ctx)
		}
	}
	e := newCrashEnv(t, "")
	e.store.Close()
	srv := startServer(t, e.dir, snapshotConfig(uri, e.s3.Endpoint))
	c := digestClient(t, srv.url, pubKey, privKey)
	api := c.CloudBackupsApi

	queued := val(api.TakeSnapshots(ctx, groupID, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{
		Description: admin.PtrString("from the API"), RetentionInDays: admin.PtrInt(2)}).Execute()).get(t)
	if queued.GetStatus() != "queued" && queued.GetStatus() != "inProgress" {
		t.Fatalf("new snapshot: %+v", queued)
	}
	var snap *admin.DiskBackupReplicaSet
	deadline := time.Now().Add(60 * time.Second)
	for {
		snap = val(api.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", queued.GetId()).Execute()).get(t)
		if snap.GetStatus() == "completed" || snap.GetStatus() == "failed" || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if snap.GetStatus() != "completed" || snap.GetMongodVersion() == "" || snap.GetStorageSizeBytes() == 0 {
		t.Fatalf("snapshot: %+v", snap)
	}
	if got := snap.GetExpiresAt().Sub(snap.GetCreatedAt()); got != 48*time.Hour {
		t.Fatalf("expiresAt - createdAt = %s, want 48h", got)
	}
	// The cluster now reports the server version the snapshot read.
	if cl := val(c.ClustersApi.GetCluster(ctx, groupID, "Cluster0").Execute()).get(t); cl.GetMongoDBVersion() != snap.GetMongodVersion() {
		t.Fatalf("cluster mongoDBVersion %q, snapshot read %q", cl.GetMongoDBVersion(), snap.GetMongodVersion())
	}

	b := val(api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	job := val(api.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: snap.GetId(), ExportBucketId: b.GetId()}).Execute()).get(t)
	done := waitState(t, c, job.GetId(), 60*time.Second)
	if done.ExportStatus.GetTotalCollections() != 3 || done.ExportStatus.GetExportedCollections() != 3 {
		t.Fatalf("exportStatus: %+v", done.ExportStatus)
	}
	got := exporttest.ReadExport(t, e.bucket(t), done.GetPrefix()).Docs
	sortDocs(want)
	sortDocs(got)
	exporttest.SameDocs(t, want, got)

	upd := val(api.UpdateBackupSnapshot(ctx, groupID, "Cluster0", snap.GetId(), &admin.BackupSnapshotRetention{RetentionUnit: "DAYS", RetentionValue: 9}).Execute()).get(t)
	if upd.GetExpiresAt().Sub(upd.GetCreatedAt()) != 9*24*time.Hour {
		t.Fatalf("retention: %+v", upd)
	}
	if _, err := api.DeleteClusterBackupSnapshot(ctx, groupID, "Cluster0", snap.GetId()).Execute(); err != nil {
		t.Fatal(describe(err))
	}
	if _, _, err := api.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", snap.GetId()).Execute(); !admin.IsErrorCode(err, "SNAPSHOT_NOT_FOUND") {
		t.Fatalf("deleted snapshot: %v", err)
	}

	// A cluster nobody answers for fails within the configured timeout.
	start := time.Now()
	gone := val(api.TakeSnapshots(ctx, groupID, "Gone", &admin.DiskBackupOnDemandSnapshotRequest{}).Execute()).get(t)
	for {
		s := val(api.GetClusterBackupSnapshot(ctx, groupID, "Gone", gone.GetId()).Execute()).get(t)
		if s.GetStatus() == "failed" {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("unreachable cluster still %s after 30s", s.GetStatus())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("unreachable cluster took %s to fail with a 2s timeout", took)
	}
}

// sortDocs orders each collection's documents by bytes: a snapshot read in
// natural order need not match the order a find returned.
func sortDocs(d exporttest.Docs) {
	for _, docs := range d {
		sort.Slice(docs, func(i, j int) bool { return string(docs[i]) < string(docs[j]) })
	}
}
