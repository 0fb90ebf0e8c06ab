package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
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
	cfg := strings.Replace(snapshotConfig(sourceURI, s3Endpoint), "exports: {chunkMiB: 1}", "exports: {chunkMiB: 1, leaseSeconds: 3}", 1)
	return strings.Replace(cfg, "          - name: Gone\n",
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

// restoreFixture is a snapex server with an exported snapshot of a
// FerretDB (Cluster0) and a second, empty FerretDB configured as Target0.
type restoreFixture struct {
	dir, config  string
	srv          *server
	src, dst     *mongo.Client
	exportID     string
	base         string // the restore jobs of Cluster0
	colls        map[string][]string
	srcURI, dURI string
}

func newRestoreFixture(t *testing.T, docsPerColl int) *restoreFixture {
	t.Helper()
	ctx := context.Background()
	f := &restoreFixture{colls: map[string][]string{"shop": {"orders", "items"}, "crm": {"people"}}}
	f.srcURI, f.dURI = testenv.FerretDB(t), testenv.FerretDB(t)
	var err error
	for _, c := range []struct {
		uri string
		dst **mongo.Client
	}{{f.srcURI, &f.src}, {f.dURI, &f.dst}} {
		if *c.dst, err = mongo.Connect(options.Client().ApplyURI(c.uri)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = (*c.dst).Disconnect(ctx) })
	}
	for db, names := range f.colls {
		for _, coll := range names {
			var batch []any
			for i := 0; i < docsPerColl; i++ {
				batch = append(batch, bson.D{
					{Key: "_id", Value: bson.NewObjectID()}, {Key: "i", Value: int32(i)}, {Key: "big", Value: int64(i) << 40},
					{Key: "price", Value: float64(i) / 7}, {Key: "at", Value: bson.NewDateTimeFromTime(time.Unix(int64(i)*3600, 0))},
					{Key: "bin", Value: bson.Binary{Subtype: 4, Data: []byte(fmt.Sprintf("%016d", i))}},
					{Key: "tags", Value: bson.A{"x", bson.D{{Key: "n", Value: int32(i)}}}}, {Key: "name", Value: fmt.Sprintf("naïve \"%d\"", i)},
				})
			}
			if _, err := f.src.Database(db).Collection(coll).InsertMany(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := newCrashEnv(t, "")
	e.store.Close()
	f.dir, f.config = e.dir, restoreConfig(f.srcURI, f.dURI, e.s3.Endpoint)
	f.srv = startServer(t, f.dir, f.config)
	c := digestClient(t, f.srv.url, pubKey, privKey)
	api := c.CloudBackupsApi
	queued := val(api.TakeSnapshots(ctx, groupID, "Cluster0", &admin.DiskBackupOnDemandSnapshotRequest{}).Execute()).get(t)
	deadline := time.Now().Add(90 * time.Second)
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
	waitState(t, c, export.GetId(), 90*time.Second)
	f.exportID = export.GetId()
	f.base = "/api/atlas/v2/groups/" + groupID + "/clusters/Cluster0/backup/snapexRestoreJobs"
	return f
}

// wait polls a restore job until it has ended.
func (f *restoreFixture) wait(t *testing.T, id string, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		status, job := extensionCall(t, f.srv.url, "GET", f.base+"/"+id, nil)
		if status != 200 {
			t.Fatalf("get: %d %v", status, job)
		}
		if job["state"] != "Queued" && job["state"] != "InProgress" {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("restore job still %v after %s: %v", job["state"], limit, job)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// compare requires the target to hold exactly the source's documents of
// every restored database.
func (f *restoreFixture) compare(t *testing.T, dbs ...string) {
	t.Helper()
	want, got := exporttest.Docs{}, exporttest.Docs{}
	for db, names := range f.colls {
		for _, coll := range names {
			if slices.Contains(dbs, db) {
				want[db+"."+coll] = readAll(t, f.src.Database(db).Collection(coll))
			}
			if docs := readAll(t, f.dst.Database(db).Collection(coll)); len(docs) > 0 {
				got[db+"."+coll] = docs
			}
		}
	}
	sortDocs(want)
	sortDocs(got)
	exporttest.SameDocs(t, want, got)
}

// TestRestoreJobFromExport snapshots a FerretDB, exports the snapshot to
// S3 (versitygw), then restores the export into a second configured
// cluster through the restore-job extension and compares the documents.
func TestRestoreJobFromExport(t *testing.T) {
	f := newRestoreFixture(t, 1500)
	// Created and watched with the CLI, which sends the extension's
	// requests through the SDK's authenticated client.
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(), "MONGODB_ATLAS_PUBLIC_API_KEY=" + pubKey, "MONGODB_ATLAS_PRIVATE_API_KEY=" + privKey,
		"MONGODB_ATLAS_PROJECT_ID=" + groupID, "MONGODB_ATLAS_OPS_MANAGER_URL=" + f.srv.url + "/"}
	out := runCLI(t, env, "backups", "restores", "create", "--clusterName", "Cluster0", "--exportJobId", f.exportID,
		"--targetClusterName", "Target0", "--nsExclude", "crm.*", "-o", "json").ok(t, "restores create")
	var created map[string]any
	if err := json.Unmarshal([]byte(out), &created); err != nil || created["state"] != "Queued" {
		t.Fatalf("create printed %q: %v", out, err)
	}
	id := created["id"].(string)
	watch := runCLI(t, env, "backups", "restores", "watch", id, "--clusterName", "Cluster0", "--interval", "200ms").ok(t, "restores watch")
	if !strings.Contains(watch, "restore job "+id+": Successful, 3000 documents") {
		t.Fatalf("watch printed:\n%s", watch)
	}
	status, job := extensionCall(t, f.srv.url, "GET", f.base+"/"+id, nil)
	if status != 200 || job["state"] != "Successful" || job["finishedAt"] == nil {
		t.Fatalf("restore job: %d %v", status, job)
	}
	if p := job["progress"].(map[string]any); p["documentsRestored"] != 3000.0 || p["namespacesDone"] != 2.0 {
		t.Fatalf("progress: %v", p)
	}
	report, _ := job["report"].(map[string]any)
	if ns, _ := report["namespaces"].([]any); len(ns) != 2 {
		t.Fatalf("report: %v", job["report"])
	}
	f.compare(t, "shop")

	if status, body := extensionCall(t, f.srv.url, "DELETE", f.base+"/"+id, nil); status != 409 || body["errorCode"] != "RESTORE_JOB_ALREADY_FINISHED" {
		t.Fatalf("cancel a finished job: %d %v", status, body)
	}
	// A second job loads the export back into the source cluster under
	// another database name.
	status, job = extensionCall(t, f.srv.url, "POST", f.base, map[string]any{
		"exportJobId": f.exportID, "targetClusterName": "Cluster0", "targetDatabaseName": "copy", "nsInclude": []string{"shop.*"}})
	if status != 202 {
		t.Fatalf("create into another database: %d %v", status, job)
	}
	if job = f.wait(t, job["id"].(string), 60*time.Second); job["state"] != "Successful" {
		t.Fatalf("restore into another database: %v", job)
	}
	for _, coll := range f.colls["shop"] {
		want, got := exporttest.Docs{coll: readAll(t, f.src.Database("shop").Collection(coll))}, exporttest.Docs{coll: readAll(t, f.src.Database("copy").Collection(coll))}
		sortDocs(want)
		sortDocs(got)
		exporttest.SameDocs(t, want, got)
	}
	list := runCLI(t, env, "backups", "restores", "list", "Cluster0", "-o", "go-template={{range .Results}}{{.ID}} {{.State}}\n{{end}}").ok(t, "restores list")
	if !strings.HasPrefix(list, id+" Successful\n") || strings.Count(list, " Successful\n") != 2 {
		t.Fatalf("restores list printed %q", list)
	}
	bad := runCLI(t, env, "backups", "restores", "create", "--clusterName", "Cluster0", "--exportJobId", f.exportID, "--targetClusterName", "Nowhere")
	if bad.code == 0 || !strings.Contains(bad.stderr, "CLUSTER_NOT_FOUND") {
		t.Fatalf("unknown target: exit %d, stderr %q", bad.code, bad.stderr)
	}
}

// TestSIGKILLMidRestoreResumes kills the only snapex process while a
// restore job loads and restarts it: the job is taken over and ends
// Successful with every document exactly once. The duplicate policy is
// "fail", so a batch recorded before the kill and inserted again after it
// would fail the job.
func TestSIGKILLMidRestoreResumes(t *testing.T) {
	const perColl = 12000
	f := newRestoreFixture(t, perColl)
	status, job := extensionCall(t, f.srv.url, "POST", f.base, map[string]any{"exportJobId": f.exportID, "targetClusterName": "Target0"})
	if status != 202 {
		t.Fatalf("create: %d %v", status, job)
	}
	id := job["id"].(string)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, job = extensionCall(t, f.srv.url, "GET", f.base+"/"+id, nil)
		if n := job["progress"].(map[string]any)["documentsRestored"].(float64); n > 0 {
			break
		}
		if job["state"] != "Queued" && job["state"] != "InProgress" || time.Now().After(deadline) {
			t.Fatalf("the restore made no progress to interrupt: %v", job)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := f.srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = f.srv.cmd.Wait()
	f.srv = startServer(t, f.dir, f.config)
	_, mid := extensionCall(t, f.srv.url, "GET", f.base+"/"+id, nil)
	if mid["state"] != "InProgress" {
		t.Fatalf("the kill came too late: job already %v", mid["state"])
	}
	before := mid["progress"].(map[string]any)["documentsRestored"].(float64)
	job = f.wait(t, id, 120*time.Second)
	if job["state"] != "Successful" {
		t.Fatalf("resumed restore job: %v", job)
	}
	if p := job["progress"].(map[string]any); p["documentsRestored"] != float64(3*perColl) || before >= float64(3*perColl) {
		t.Fatalf("progress %v, %v documents recorded at the kill", p, before)
	}
	if logs := f.srv.logs.String(); !strings.Contains(logs, "continuing an interrupted restore") {
		t.Fatalf("the restarted server did not continue the recorded run:\n%s", logs)
	}
	f.compare(t, "shop", "crm")
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

// TestCancelRestoreJobMidRun cancels a loading restore job: DELETE
// answers 202, the worker stops after its current batches, and the job
// ends Cancelled with what it loaded reported.
func TestCancelRestoreJobMidRun(t *testing.T) {
	const perColl = 12000
	f := newRestoreFixture(t, perColl)
	status, job := extensionCall(t, f.srv.url, "POST", f.base, map[string]any{"exportJobId": f.exportID, "targetClusterName": "Target0"})
	if status != 202 {
		t.Fatalf("create: %d %v", status, job)
	}
	id := job["id"].(string)
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, job = extensionCall(t, f.srv.url, "GET", f.base+"/"+id, nil)
		if job["progress"].(map[string]any)["documentsRestored"].(float64) > 0 {
			break
		}
		if job["state"] != "Queued" && job["state"] != "InProgress" || time.Now().After(deadline) {
			t.Fatalf("the restore made no progress to cancel: %v", job)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if status, c := extensionCall(t, f.srv.url, "DELETE", f.base+"/"+id, nil); status != 202 || c["id"] != id {
		t.Fatalf("cancel: %d %v", status, c)
	}
	job = f.wait(t, id, 30*time.Second)
	loaded := job["progress"].(map[string]any)["documentsRestored"].(float64)
	if job["state"] != "Cancelled" || job["finishedAt"] == nil || loaded >= 3*perColl {
		t.Fatalf("cancelled job: %v", job)
	}
	if _, ok := job["report"].(map[string]any); !ok {
		t.Fatalf("a cancelled job reports what it loaded: %v", job)
	}
}
