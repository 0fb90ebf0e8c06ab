package e2e

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/atlas"
	"go.mongodb.org/atlas/mongodbatlas"
)

// legacyClient is the deprecated v1.0 Go client, unchanged: digest auth,
// its own paths under /api/atlas/v1.0, every response validated.
func legacyClient(t *testing.T, url string) *mongodbatlas.Client {
	t.Helper()
	tr := digest.NewTransportWithHTTPRoundTripper(pubKey, privKey, apitest.NewTransport(t, nil))
	hc, err := tr.Client()
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongodbatlas.New(hc, mongodbatlas.SetBaseURL(url+"/"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLegacyGoClient drives the real binary with go.mongodb.org/atlas
// v0.38.0 through every v1.0 operation it has for these resources: clusters
// and snapshots, an AWS export bucket's whole life, an export job polled to
// Successful, and a decoded 404.
func TestLegacyGoClient(t *testing.T) {
	e := startExportEnv(t, expProviders{s3: true})
	ctx := context.Background()
	c := legacyClient(t, e.srv.url)

	dumpDir := filepath.Join(e.dir, "dump")
	source := replicaSetDump(t)
	writeDump(t, dumpDir, true, source)
	// mongodump records the server version in prelude.json; the import
	// takes it, and the cluster then reports it.
	const dumpedVersion = "8.0.99"
	if err := os.WriteFile(filepath.Join(dumpDir, "prelude.json"), []byte(`{"ServerVersion":"`+dumpedVersion+`","ToolVersion":"100.10.0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	snapID := e.importSnapshot(t, "Cluster0", dumpDir)

	clusters, _, err := c.Clusters.List(ctx, groupID, nil)
	if err != nil || len(clusters) != 2 {
		t.Fatalf("list clusters: %d, %v", len(clusters), err)
	}
	cl, _, err := c.Clusters.Get(ctx, groupID, "Cluster0")
	if err != nil {
		t.Fatalf("get cluster: %v", err)
	}
	if cl.Name != "Cluster0" || cl.ProviderBackupEnabled == nil || !*cl.ProviderBackupEnabled || cl.MongoDBVersion != dumpedVersion || cl.MongoDBMajorVersion != "8.0" {
		t.Fatalf("cluster: %+v", cl)
	}

	params := &mongodbatlas.SnapshotReqPathParameters{GroupID: groupID, ClusterName: "Cluster0"}
	snaps, _, err := c.CloudProviderSnapshots.GetAllCloudProviderSnapshots(ctx, params, nil)
	if err != nil || snaps.TotalCount != 1 || len(snaps.Results) != 1 || snaps.Results[0].ID != snapID {
		t.Fatalf("list snapshots: %+v, %v", snaps, err)
	}
	one, _, err := c.CloudProviderSnapshots.GetOneCloudProviderSnapshot(ctx, &mongodbatlas.SnapshotReqPathParameters{GroupID: groupID, ClusterName: "Cluster0", SnapshotID: snapID})
	if err != nil || one.Status != "completed" || one.MongodVersion != dumpedVersion || one.ReplicaSetName != "rs0" {
		t.Fatalf("get snapshot: %+v, %v", one, err)
	}

	e.s3.CreateBucket(t, "snapex-e2e-legacy")
	b, _, err := c.CloudProviderSnapshotExportBuckets.Create(ctx, groupID, &mongodbatlas.CloudProviderSnapshotExportBucket{
		BucketName: "snapex-e2e-legacy", CloudProvider: "AWS", IAMRoleID: expS3Role})
	if err != nil || !atlas.ValidObjectID(b.ID) || b.IAMRoleID != expS3Role {
		t.Fatalf("create bucket: %+v, %v", b, err)
	}
	if got, _, err := c.CloudProviderSnapshotExportBuckets.Get(ctx, groupID, b.ID); err != nil || got.BucketName != "snapex-e2e-legacy" {
		t.Fatalf("get bucket: %+v, %v", got, err)
	}
	if list, _, err := c.CloudProviderSnapshotExportBuckets.List(ctx, groupID, nil); err != nil || list.TotalCount != 1 || list.Results[0].ID != b.ID {
		t.Fatalf("list buckets: %+v, %v", list, err)
	}

	job, _, err := c.CloudProviderSnapshotExportJobs.Create(ctx, groupID, "Cluster0", &mongodbatlas.CloudProviderSnapshotExportJob{
		SnapshotID: snapID, ExportBucketID: b.ID,
		CustomData: []*mongodbatlas.CloudProviderSnapshotExportJobCustomData{{Key: "tool", Value: "legacy"}}})
	if err != nil || job.State != "Queued" || job.SnapshotID != snapID || len(job.CustomData) != 1 {
		t.Fatalf("create export job: %+v, %v", job, err)
	}
	deadline := time.Now().Add(expWait)
	for job.State != "Successful" {
		switch job.State {
		case "Failed", "Cancelled":
			t.Fatalf("export ended %s: %s", job.State, job.ErrMsg)
		}
		if time.Now().After(deadline) {
			t.Fatalf("export still %s after %v", job.State, expWait)
		}
		time.Sleep(100 * time.Millisecond)
		if job, _, err = c.CloudProviderSnapshotExportJobs.Get(ctx, groupID, "Cluster0", job.ID); err != nil {
			t.Fatalf("get export job: %v", err)
		}
	}
	if job.FinishedAt == "" || job.ExportStatus == nil || job.ExportStatus.ExportedCollections == 0 ||
		job.ExportStatus.ExportedCollections != job.ExportStatus.TotalCollections || job.ErrMsg != "" {
		t.Fatalf("finished job: %+v %+v", job, job.ExportStatus)
	}
	jobs, _, err := c.CloudProviderSnapshotExportJobs.List(ctx, groupID, "Cluster0", nil)
	if err != nil || jobs.TotalCount != 1 || jobs.Results[0].ID != job.ID {
		t.Fatalf("list export jobs: %+v, %v", jobs, err)
	}

	// The bucket is free again once the job is done; deleting it twice
	// decodes as the client's ErrorResponse with Atlas's code.
	resp, err := c.CloudProviderSnapshotExportBuckets.Delete(ctx, groupID, b.ID)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete bucket: %v", err)
	}
	_, err = c.CloudProviderSnapshotExportBuckets.Delete(ctx, groupID, b.ID)
	var er *mongodbatlas.ErrorResponse
	if !errors.As(err, &er) || er.HTTPCode != http.StatusNotFound || er.ErrorCode != "EXPORT_BUCKET_NOT_FOUND" || er.Reason != "Not Found" || er.Detail == "" {
		t.Fatalf("deleted bucket: %v", err)
	}
	_, _, err = c.Clusters.Get(ctx, groupID, "NoSuchCluster")
	if !errors.As(err, &er) || er.ErrorCode != "CLUSTER_NOT_FOUND" {
		t.Fatalf("unknown cluster: %v", err)
	}
}
