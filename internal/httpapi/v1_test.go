package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

func v1Path(group string) string { return "/api/atlas/v1.0/groups/" + group }

// doV1 sends a v1.0 request as the legacy clients do: Accept and
// Content-Type application/json, no version.
func (e *env) doV1(user, pass, method, path string, body any) response {
	e.t.Helper()
	h := map[string]string{"Accept": "application/json"}
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
		h["Content-Type"] = "application/json"
	}
	return e.send(user, pass, method, path, h, raw)
}

func TestV1ClustersAndSnapshots(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters", nil)
	e.expect(r, 200, "")
	if r.header.Get("Content-Type") != "application/json" || r.body["totalCount"] != 2.0 {
		t.Fatalf("list clusters: %q %s", r.header.Get("Content-Type"), r.raw)
	}
	c := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Cluster0", nil)
	e.expect(c, 200, "")
	if c.body["providerBackupEnabled"] != true || c.body["backupEnabled"] != false || c.str("mongoDBVersion") != "7.0.14" {
		t.Fatalf("v1.0 cluster: %s", c.raw)
	}
	if links, _ := c.body["links"].([]any); len(links) == 0 || !strings.Contains(links[0].(map[string]any)["href"].(string), "/api/atlas/v1.0/groups/") {
		t.Fatalf("v1.0 links must point at v1.0: %s", c.raw)
	}
	// The same request on v2 keeps the v2 shape.
	v2 := e.do("GET", groupPath(groupP1)+"/clusters/Cluster0", "2024-10-23", nil)
	if _, ok := v2.body["providerBackupEnabled"]; ok || v2.body["backupEnabled"] != true {
		t.Fatalf("v2 cluster: %s", v2.raw)
	}

	rs := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	sh := e.addSnapshot(groupP1, "Sharded0", atlas.ShardedClusterSnapshot, atlas.SnapshotCompleted, snapT0)
	list := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Cluster0/backup/snapshots", nil)
	e.expect(list, 200, "")
	if list.body["totalCount"] != 1.0 {
		t.Fatalf("v1.0 snapshots: %s", list.raw)
	}
	got := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Cluster0/backup/snapshots/"+rs.ID, nil)
	e.expect(got, 200, "")
	if got.str("mongodVersion") != "7.0.14" || got.str("id") != rs.ID {
		t.Fatalf("v1.0 snapshot: %s", got.raw)
	}
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Sharded0/backup/snapshots/shardedClusters", nil), 200, "")
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Sharded0/backup/snapshots/shardedCluster/"+sh.ID, nil), 200, "")
	e.expect(e.doV1(ownerKey, ownerPriv, "DELETE", v1Path(groupP1)+"/clusters/Sharded0/backup/snapshots/shardedCluster/"+sh.ID, nil), 204, "")

	// Same errors, same auth: a wrong key never gets past 401, a missing
	// cluster is CLUSTER_NOT_FOUND, the read-only key cannot take snapshots.
	e.expect(e.doV1(ownerKey, "wrong", "GET", v1Path(groupP1)+"/clusters", nil), 401, "")
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Nope", nil), 404, "CLUSTER_NOT_FOUND")
	e.expect(e.doV1(readKey, readPriv, "POST", v1Path(groupP1)+"/clusters/Cluster0/backup/snapshots", map[string]any{}), 401, "USER_UNAUTHORIZED")
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP2)+"/clusters/Cluster0", nil), 404, "CLUSTER_NOT_FOUND")
	// A version Accept header changes nothing on v1.0.
	r = e.send(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters", map[string]string{"Accept": "application/vnd.atlas.2023-01-01+json"}, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("v1.0 with a vendor Accept: %d %q", r.status, r.header.Get("Content-Type"))
	}
}

func TestV1BucketsAndExportJobs(t *testing.T) {
	e := newEnv(t, "sqlite")
	buckets := v1Path(groupP1) + bucketsPath
	r := e.doV1(ownerKey, ownerPriv, "POST", buckets, map[string]any{"cloudProvider": "AWS", "bucketName": "legacy-bucket", "iamRoleId": awsRole})
	e.expect(r, 200, "")
	id := r.str("_id")
	for _, k := range []string{"region", "requirePrivateNetworking"} {
		if _, ok := r.body[k]; ok {
			t.Fatalf("v1.0 bucket carries %s: %s", k, r.raw)
		}
	}
	got := e.doV1(ownerKey, ownerPriv, "GET", buckets+"/"+id, nil)
	e.expect(got, 200, "")
	if got.str("iamRoleId") != awsRole || got.str("bucketName") != "legacy-bucket" {
		t.Fatalf("v1.0 bucket: %s", got.raw)
	}
	// v1.0 buckets are AWS only, as in the v1.0 API.
	e.expect(e.doV1(ownerKey, ownerPriv, "POST", buckets, map[string]any{"cloudProvider": "GCP", "bucketName": "gcs-bucket", "roleId": gcpRole}), 400, "INVALID_PROVIDER")
	gcp := e.do("POST", groupPath(groupP1)+bucketsPath, "2024-05-30", map[string]any{"cloudProvider": "GCP", "bucketName": "gcs-bucket", "roleId": gcpRole})
	e.expect(gcp, 200, "")
	na := e.doV1(ownerKey, ownerPriv, "GET", buckets+"/"+gcp.str("_id"), nil)
	e.expect(na, 406, "INVALID_VERSION_DATE")
	if !strings.Contains(na.str("detail"), "is a GCP bucket") || !strings.Contains(na.str("detail"), "v1.0") {
		t.Fatalf("detail: %s", na.raw)
	}
	l := e.doV1(ownerKey, ownerPriv, "GET", buckets, nil)
	if l.body["totalCount"] != 1.0 {
		t.Fatalf("v1.0 bucket list must hold the AWS bucket only: %s", l.raw)
	}
	e.expect(e.doV1(ownerKey, ownerPriv, "PATCH", buckets+"/"+id, map[string]any{"requirePrivateNetworking": true}), 405, "METHOD_NOT_ALLOWED")

	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	exports := v1Path(groupP1) + "/clusters/Cluster0/backup/exports"
	j := e.doV1(ownerKey, ownerPriv, "POST", exports, map[string]any{"snapshotId": snap.ID, "exportBucketId": id})
	e.expect(j, 200, "")
	if _, err := e.store.UpdateExportJob(context.Background(), j.str("id"), func(job *atlas.ExportJob) error {
		now := time.Now()
		job.State, job.FinishedAt = atlas.ExportFailed, &now
		job.StateReason = &atlas.StateReason{ErrorCode: "EXPORT_FAILED", Message: "the bucket refused the upload"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	failed := e.doV1(ownerKey, ownerPriv, "GET", exports+"/"+j.str("id"), nil)
	e.expect(failed, 200, "")
	if failed.str("errMsg") != "the bucket refused the upload" || failed.body["stateReason"] != nil || failed.str("state") != "Failed" {
		t.Fatalf("v1.0 failed job: %s", failed.raw)
	}
	v2 := e.do("GET", groupPath(groupP1)+"/clusters/Cluster0/backup/exports/"+j.str("id"), "2023-01-01", nil)
	if v2.body["errMsg"] != nil || v2.body["stateReason"] == nil {
		t.Fatalf("v2 failed job: %s", v2.raw)
	}
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", exports, nil), 200, "")
	e.expect(e.doV1(ownerKey, ownerPriv, "GET", exports+"/"+atlas.NewObjectID(time.Now()), nil), 404, "RESOURCE_NOT_FOUND")
	e.expect(e.doV1(ownerKey, ownerPriv, "DELETE", buckets+"/"+gcp.str("_id"), nil), 204, "")
}

func TestCancelExport(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("cancel-bucket")
	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	r := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	id := r.str("id")

	// Cancelling needs the role creating needs, which read-only lacks.
	e.expect(e.doAs(readKey, readPriv, "DELETE", base+"/"+id, "2023-01-01", nil), 401, "USER_UNAUTHORIZED")
	c := e.do("DELETE", base+"/"+id, "2023-01-01", nil)
	e.expect(c, http.StatusAccepted, "")
	// Nobody worked on the queued job, so it ends at once.
	if c.str("state") != "Cancelled" || c.str("finishedAt") == "" {
		t.Fatalf("cancelled job: %s", c.raw)
	}
	if got := e.do("GET", base+"/"+id, "2023-01-01", nil); got.str("state") != "Cancelled" {
		t.Fatalf("after cancel: %s", got.raw)
	}
	again := e.do("DELETE", base+"/"+id, "2023-01-01", nil)
	e.expect(again, http.StatusConflict, "EXPORT_JOB_ALREADY_FINISHED")
	e.expect(e.do("DELETE", base+"/"+atlas.NewObjectID(time.Now()), "2023-01-01", nil), 404, "RESOURCE_NOT_FOUND")
	e.expect(e.do("DELETE", base+"/not-an-id", "2023-01-01", nil), 400, "INVALID_PATH_PARAMETER")

	// A job a worker holds is only flagged: 202, still InProgress until
	// the worker's next chunk boundary. The v1.0 path works the same.
	r = e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	if _, err := e.store.UpdateExportJob(context.Background(), r.str("id"), func(job *atlas.ExportJob) error {
		job.State = atlas.ExportInProgress
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	running := e.doV1(ownerKey, ownerPriv, "DELETE", v1Path(groupP1)+"/clusters/Cluster0/backup/exports/"+r.str("id"), nil)
	e.expect(running, http.StatusAccepted, "")
	if running.str("state") != "InProgress" || running.header.Get("Content-Type") != "application/json" {
		t.Fatalf("running job after cancel request: %s", running.raw)
	}
	// Asking again while it winds down is still accepted.
	e.expect(e.do("DELETE", base+"/"+r.str("id"), "2023-01-01", nil), http.StatusAccepted, "")
}

func TestClusterReportsObservedVersion(t *testing.T) {
	e := newEnv(t, "sqlite")
	path := groupPath(groupP1) + "/clusters/Cluster0"
	if r := e.do("GET", path, "2024-10-23", nil); r.str("mongoDBVersion") != "7.0.14" {
		t.Fatalf("configured version: %s", r.raw)
	}
	// A failed or queued snapshot's version does not count; the newest
	// completed one's does.
	old := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	newer := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotFailed, snapT0.Add(time.Hour))
	for id, v := range map[string]string{old.ID: "8.0.4", newer.ID: "8.2.0"} {
		if _, err := e.store.UpdateSnapshot(context.Background(), id, func(sn *atlas.Snapshot) error {
			sn.MongodVersion = v
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.do("GET", path, "2024-10-23", nil)
	if r.str("mongoDBVersion") != "8.0.4" || r.str("mongoDBMajorVersion") != "8.0" {
		t.Fatalf("observed version: %s", r.raw)
	}
	if v1 := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Cluster0", nil); v1.str("mongoDBVersion") != "8.0.4" {
		t.Fatalf("v1.0 observed version: %s", v1.raw)
	}
	list := e.do("GET", groupPath(groupP1)+"/clusters", "2024-10-23", nil)
	for _, c := range list.body["results"].([]any) {
		m := c.(map[string]any)
		if m["name"] == "Cluster0" && m["mongoDBVersion"] != "8.0.4" {
			t.Fatalf("list: %s", list.raw)
		}
	}
}
