package export_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

func TestExportWritesAtlasLayout(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 300, "shop.empty": 0, "crm.people": 40})
	job := f.newJob(atlas.Label{Key: "team", Value: "data"})
	if err := f.engine("w1").Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	got := f.job(job.ID)
	if got.State != atlas.ExportSuccessful || got.FinishedAt == nil || got.StateReason != nil {
		t.Fatalf("job: %+v", got)
	}
	if got.TotalCollections != 3 || got.ExportedCollections != 3 {
		t.Fatalf("exportStatus %d/%d, want 3/3", got.ExportedCollections, got.TotalCollections)
	}
	b := openLocal(t, f)
	ex := exporttest.ReadExport(t, b, job.Prefix)
	docs, files, keys := ex.Docs, ex.Files, ex.Keys
	exporttest.SameDocs(t, f.docs.NonEmpty(), docs)
	if len(docs["rs0/shop.orders"]) != 300 {
		t.Fatal("orders missing")
	}
	var chunks int
	for _, k := range keys {
		if strings.HasSuffix(k, ".json.gz") {
			chunks++
		}
	}
	if chunks < 4 {
		t.Fatalf("300 KiB of BSON in 64 KiB chunks made only %d data files", chunks)
	}
	var md map[string]any
	if err := json.Unmarshal(files[job.Prefix+"/shop/orders/metadata.json"], &md); err != nil {
		t.Fatalf("metadata.json: %v", err)
	}
	if md["collectionName"] != "orders" || md["uuid"] != "0123456789abcdef0123456789abcdef" || len(md["indexes"].([]any)) != 1 {
		t.Fatalf("metadata.json: %v", md)
	}
	if _, ok := files[job.Prefix+"/shop/empty/metadata.json"]; !ok {
		t.Fatal("an empty collection still gets its metadata.json")
	}
	var complete map[string]any
	if err := json.Unmarshal(files[job.Prefix+"/.complete"], &complete); err != nil {
		t.Fatalf(".complete: %v", err)
	}
	want := map[string]any{"orgId": orgID, "orgName": "Org", "groupId": groupID, "groupName": "Project", "clusterName": "Cluster0",
		"snapshotInitiationDate": "2026-08-10T03:27:08.321Z", "totalFiles": float64(chunks + 3)}
	for k, v := range want {
		if complete[k] != v {
			t.Fatalf(".complete %s = %v, want %v (%v)", k, complete[k], v, complete)
		}
	}
	if cd := complete["customData"].([]any); len(cd) != 1 || cd[0].(map[string]any)["value"] != "data" {
		t.Fatalf(".complete customData: %v", complete["customData"])
	}
	if lb := complete["labels"].([]any); len(lb) != 1 || lb[0].(map[string]any)["key"] != "env" {
		t.Fatalf(".complete labels: %v", complete["labels"])
	}
	if ok, err := b.Exists(context.Background(), atlas.PermissionCheckKey); err != nil || !ok {
		t.Fatalf(".permissioncheck: %v %v", ok, err)
	}
	// Running a finished job again is a no-op.
	if err := f.engine("w2").Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
}

func TestShardedExportCoversEveryReplicaSet(t *testing.T) {
	f := newFixture(t, "", "", "Sharded0", []string{"shard0", "shard1"}, map[string]int{"shop.orders": 120})
	job := f.newJob()
	if err := f.engine("w1").Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := f.job(job.ID); got.State != atlas.ExportSuccessful || got.TotalCollections != 1 || got.ExportedCollections != 1 {
		t.Fatalf("job: %+v", got)
	}
	exporttest.SameDocs(t, f.docs, exporttest.ReadExport(t, openLocal(t, f), job.Prefix).Docs)
}

// TestResumeAfterWorkerDies kills a worker mid-export (its database handle
// vanishes, so it can neither record progress nor release its lease, as in
// a SIGKILL) and lets a second worker take over once the lease expires: every
// document lands exactly once and no stray object is left.
func TestResumeAfterWorkerDies(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "" },
		"postgres": func(t *testing.T) string { return testenv.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, dsn(t), "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 600, "shop.items": 500, "crm.people": 50})
			job := f.newJob()
			dying, err := store.Open(context.Background(), f.cfg.Database.Value())
			if err != nil {
				t.Fatal(err)
			}
			a := f.engine("dying-worker")
			a.Store = dying
			a.AfterChunk = func(string, store.Progress) { time.Sleep(30 * time.Millisecond) }
			done := make(chan error, 1)
			go func() { done <- a.Run(context.Background(), job.ID, false) }()
			waitFor(t, 20*time.Second, func() bool {
				p, err := f.store.ExportProgress(context.Background(), job.ID)
				if err != nil {
					t.Fatal(err)
				}
				chunks := 0
				for _, u := range p {
					chunks += u.NextChunk
				}
				return chunks >= 3
			})
			dying.Close()
			<-done
			mid := f.job(job.ID)
			if mid.State != atlas.ExportInProgress {
				t.Fatalf("after the crash the job is %s", mid.State)
			}
			b := f.engine("successor")
			err = b.Run(context.Background(), job.ID, false)
			for errors.Is(err, export.ErrLeaseHeld) {
				time.Sleep(200 * time.Millisecond)
				err = b.Run(context.Background(), job.ID, false)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.job(job.ID); got.State != atlas.ExportSuccessful {
				t.Fatalf("job: %+v", got)
			}
			ex := exporttest.ReadExport(t, openLocal(t, f), job.Prefix)
			exporttest.SameDocs(t, f.docs, ex.Docs)
			for _, k := range ex.Keys {
				if !strings.HasSuffix(k, ".json.gz") && !strings.HasSuffix(k, "/metadata.json") && !strings.HasSuffix(k, "/.complete") {
					t.Fatalf("stray object %s", k)
				}
			}
		})
	}
}

func TestCancelStopsAtChunkBoundary(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 3000})
	job := f.newJob()
	e := f.engine("w1")
	e.Parallelism = 1
	e.AfterChunk = func(string, store.Progress) { time.Sleep(20 * time.Millisecond) }
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background(), job.ID, false) }()
	waitFor(t, 20*time.Second, func() bool { return f.job(job.ID).State == atlas.ExportInProgress })
	if _, err := f.store.RequestExportCancel(context.Background(), job.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := f.job(job.ID)
	if got.State != atlas.ExportCancelled || got.FinishedAt == nil {
		t.Fatalf("job: %+v", got)
	}
	if ok, _ := openLocal(t, f).Exists(context.Background(), job.Prefix+"/.complete"); ok {
		t.Fatal("a cancelled export must not write .complete")
	}
}

func TestCancelQueuedJobAtOnce(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 10})
	job := f.newJob()
	got, err := f.store.RequestExportCancel(context.Background(), job.ID, time.Now())
	if err != nil || got.State != atlas.ExportCancelled || got.FinishedAt == nil {
		t.Fatalf("cancel queued: %+v %v", got, err)
	}
	if err := f.engine("w1").Run(context.Background(), job.ID, false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := openLocal(t, f).Exists(context.Background(), atlas.PermissionCheckKey); ok {
		t.Fatal("a cancelled queued job must not touch the bucket")
	}
}

func TestMissingBucketOrCredentialsFailTheJob(t *testing.T) {
	s3 := testenv.VersityGW(t)
	s3.CreateBucket(t, "exports")
	t.Setenv("ENGINE_TEST_AK", s3.AccessKey)
	t.Setenv("ENGINE_TEST_SK", s3.SecretKey)
	t.Setenv("ENGINE_TEST_BAD_SK", "not-the-secret")
	roles := `          - id: ` + s3Role + `
            provider: AWS
            aws: {accessKeyId: env:ENGINE_TEST_AK, secretAccessKey: env:ENGINE_TEST_SK, region: us-east-1, endpoint: ` + s3.Endpoint + `, usePathStyle: true}
          - id: c00000000000000000000003
            provider: AWS
            aws: {accessKeyId: env:ENGINE_TEST_AK, secretAccessKey: env:ENGINE_TEST_BAD_SK, region: us-east-1, endpoint: ` + s3.Endpoint + `, usePathStyle: true}`
	cases := []struct {
		name, bucket, role, code string
	}{
		{"bucket vanished", "no-such-bucket", s3Role, "EXPORT_BUCKET_NOT_FOUND"},
		{"credentials revoked", "exports", "c00000000000000000000003", "EXPORT_BUCKET_ACCESS_DENIED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "", roles, "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 10})
			ctx := context.Background()
			f.bucket = &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: c.bucket, CloudProvider: atlas.AWS, RoleID: c.role, CreatedAt: time.Now()}
			if err := f.store.CreateBucket(ctx, f.bucket); err != nil {
				t.Fatal(err)
			}
			job := f.newJob()
			if err := f.engine("w1").Run(ctx, job.ID, false); err != nil {
				t.Fatal(err)
			}
			got := f.job(job.ID)
			if got.State != atlas.ExportFailed || got.StateReason == nil || got.StateReason.ErrorCode != c.code || got.FinishedAt == nil {
				t.Fatalf("job: %+v reason %+v", got, got.StateReason)
			}
			if !strings.Contains(got.StateReason.Message, c.bucket) {
				t.Fatalf("reason does not name the bucket: %s", got.StateReason.Message)
			}
		})
	}
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
