package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestRepeatedSIGKILL kills the snapex process at random moments while it
// exports and takes snapshots, 20 times (SNAPEX_CHAOS_ROUNDS), restarting it
// each time, on SQLite and on PostgreSQL. Afterwards every job and snapshot
// reaches a terminal state, and every Successful export is complete and
// exact.
func TestRepeatedSIGKILL(t *testing.T) {
	rounds := 20
	if v, err := strconv.Atoi(os.Getenv("SNAPEX_CHAOS_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { chaos(t, engine, rounds) })
	}
}

func chaos(t *testing.T, engine string, rounds int) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	ferret := testenv.FerretDB(t)
	ctx := context.Background()
	mc, err := mongo.Connect(options.Client().ApplyURI(ferret))
	if err != nil {
		t.Fatal(err)
	}
	var batch []any
	for i := 0; i < 3000; i++ {
		batch = append(batch, bson.D{{Key: "i", Value: int32(i)}, {Key: "s", Value: "chaos document with some text in it"}})
	}
	if _, err := mc.Database("app").Collection("events").InsertMany(ctx, batch); err != nil {
		t.Fatal(err)
	}
	_ = mc.Disconnect(ctx)

	database := ""
	if engine == "postgres" {
		database = testenv.Postgres(t)
	}
	e := newCrashEnv(t, database)
	cfg := snapshotConfig(ferret, e.s3.Endpoint)
	if database != "" {
		cfg = strings.Replace(cfg, "database: snapex.db", "database: "+database, 1)
	}
	cfg = strings.Replace(cfg, "exports: {chunkMiB: 1}", "exports: {chunkMiB: 1, leaseSeconds: 3}", 1)
	type exportCase struct {
		id   string
		docs exporttest.Docs
	}
	var exports []exportCase
	var snapshots []string
	srv := startServer(t, e.dir, cfg)
	c := digestClient(t, srv.url, pubKey, privKey)
	b := val(c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	for round := 0; round < rounds; round++ {
		sn, docs := e.addSnapshot(t, map[string]int{"shop.orders": 1500 + rng.IntN(1500), "crm.people": 300})
		job := val(c.CloudBackupsApi.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
			SnapshotId: sn.ID, ExportBucketId: b.GetId()}).Execute()).get(t)
		exports = append(exports, exportCase{job.GetId(), docs})
		if s, _, err := c.CloudBackupsApi.TakeSnapshots(ctx, groupID, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{}).Execute(); err == nil {
			snapshots = append(snapshots, s.GetId())
		} else if !admin.IsErrorCode(err, "UNFINISHED_ON_DEMAND_SNAPSHOT") {
			t.Fatalf("take snapshot: %v", describe(err))
		}
		time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = srv.cmd.Wait()
		srv = startServer(t, e.dir, cfg)
		c = digestClient(t, srv.url, pubKey, privKey)
	}
	bucket := e.bucket(t)
	for _, x := range exports {
		done := waitState(t, c, x.id, 120*time.Second)
		e.verify(t, bucket, done, x.docs)
	}
	deadline := time.Now().Add(120 * time.Second)
	for _, id := range snapshots {
		for {
			s := val(c.CloudBackupsApi.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", id).Execute()).get(t)
			if s.GetStatus() == string(atlas.SnapshotCompleted) {
				break
			}
			if s.GetStatus() == string(atlas.SnapshotFailed) || time.Now().After(deadline) {
				t.Fatalf("snapshot %s ended %s", id, s.GetStatus())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("%s: %d kills; %d exports Successful and exact; %d snapshots completed", engine, rounds, len(exports), len(snapshots))
}
