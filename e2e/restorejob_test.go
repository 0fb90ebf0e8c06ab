package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/exporttest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// restoreConfig is snapshotConfig with a second cluster, the restore target.
func restoreConfig(sourceURI, targetURI, s3Endpoint string) string {
	return strings.Replace(snapshotConfig(sourceURI, s3Endpoint), "          - name: Gone\n",
		"          - name: Target0\n            replicaSets: [{name: rs0, uri: \""+targetURI+"\"}]\n          - name: Gone\n", 1)
}

// extensionCall sends a request to one of snapex's extension routes (the
// Atlas SDK has no methods for them) with the API key.
func extensionCall(t *testing.T, base, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/vnd.atlas.2023-01-01+json")
	}
	hc, err := digest.NewTransportWithHTTPRoundTripper(pubKey, privKey, apitest.NewTransport(t, nil)).Client()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// TestRestoreJobFromExport snapshots a FerretDB, exports the snapshot to
// S3 (versitygw), then restores the export into a second configured
// cluster through the restore-job extension and compares the documents.
func TestRestoreJobFromExport(t *testing.T) {
	ctx := context.Background()
	srcURI, dstURI := testenv.FerretDB(t), testenv.FerretDB(t)
	src, err := mongo.Connect(options.Client().ApplyURI(srcURI))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Disconnect(ctx)
	colls := map[string][]string{"shop": {"orders", "items"}, "crm": {"people"}}
	for db, names := range colls {
		for _, coll := range names {
			var batch []any
			for i := 0; i < 1500; i++ {
				batch = append(batch, bson.D{
					{Key: "_id", Value: bson.NewObjectID()}, {Key: "i", Value: int32(i)}, {Key: "big", Value: int64(i) << 40},
					{Key: "price", Value: float64(i) / 7}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(i)*3600, 0))},
					{Key: "bin", Value: bson.Binary{Subtype: 4, Data: []byte(fmt.Sprintf("%016d", i))}},
					{Key: "tags", Value: bson.A{"x", bson.D{{Key: "n", Value: int32(i)}}}}, {Key: "name", Value: fmt.Sprintf("naïve \"%d\"", i)},
				})
			}
			if _, err := src.Database(db).Collection(coll).InsertMany(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := newCrashEnv(t, "")
	e.store.Close()
	srv := startServer(t, e.dir, restoreConfig(srcURI, dstURI, e.s3.Endpoint))
	c := digestClient(t, srv.url, pubKey, privKey)
	api := c.CloudBackupsApi

	queued := val(api.TakeSnapshots(ctx, groupID, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{}).Execute()).get(t)
	deadline := time.Now().Add(60 * time.Second)
	for {
		s := val(api.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", queued.GetId()).Execute()).get(t)
		if s.GetStatus() == "completed" {
			break
		}
		if s.GetStatus() == "failed" || time.Now().After(deadline) {
			t.Fatalf("snapshot: %+v", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b := val(api.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	export := val(api.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: queued.GetId(), ExportBucketId: b.GetId()}).Execute()).get(t)
	waitState(t, c, export.GetId(), 60*time.Second)

	base := "/api/atlas/v2/groups/" + groupID + "/clusters/Cluster0/backup/snapexRestoreJobs"
	status, job := extensionCall(t, srv.url, "POST", base, map[string]any{
		"exportJobId": export.GetId(), "targetClusterName": "Target0", "nsExclude": []string{"crm.*"}})
	if status != 202 || job["state"] != "Queued" {
		t.Fatalf("create: %d %v", status, job)
	}
	id := job["id"].(string)
	deadline = time.Now().Add(90 * time.Second)
	for job["state"] == "Queued" || job["state"] == "InProgress" {
		if time.Now().After(deadline) {
			t.Fatalf("restore job still %v after 90s: %v", job["state"], job)
		}
		time.Sleep(200 * time.Millisecond)
		if status, job = extensionCall(t, srv.url, "GET", base+"/"+id, nil); status != 200 {
			t.Fatalf("get: %d %v", status, job)
		}
	}
	if job["state"] != "Successful" || job["finishedAt"] == nil {
		t.Fatalf("restore job: %v", job)
	}
	if p := job["progress"].(map[string]any); p["documentsRestored"] != 3000.0 || p["namespacesDone"] != 2.0 {
		t.Fatalf("progress: %v", p)
	}
	report, _ := job["report"].(map[string]any)
	if ns, _ := report["Namespaces"].([]any); len(ns) != 2 {
		t.Fatalf("report: %v", job["report"])
	}

	dst, err := mongo.Connect(options.Client().ApplyURI(dstURI))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Disconnect(ctx)
	want, got := exporttest.Docs{}, exporttest.Docs{}
	for db, names := range colls {
		for _, coll := range names {
			if db != "crm" {
				want[db+"."+coll] = readAll(t, src.Database(db).Collection(coll))
			}
			if docs := readAll(t, dst.Database(db).Collection(coll)); len(docs) > 0 {
				got[db+"."+coll] = docs
			}
		}
	}
	sortDocs(want)
	sortDocs(got)
	exporttest.SameDocs(t, want, got)

	if status, body := extensionCall(t, srv.url, "DELETE", base+"/"+id, nil); status != 409 || body["errorCode"] != "RESTORE_JOB_ALREADY_FINISHED" {
		t.Fatalf("cancel a finished job: %d %v", status, body)
	}
	if status, list := extensionCall(t, srv.url, "GET", base, nil); status != 200 || list["totalCount"] != 1.0 {
		t.Fatalf("list: %d %v", status, list)
	}
}

func readAll(t *testing.T, c *mongo.Collection) [][]byte {
	t.Helper()
	cur, err := c.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(context.Background())
	var out [][]byte
	for cur.Next(context.Background()) {
		out = append(out, append([]byte(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
