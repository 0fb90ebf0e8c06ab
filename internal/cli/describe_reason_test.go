package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// TestDescribeSaysWhyItFailed runs `snapshots describe` and `exports jobs
// describe` against a real snapex API: a failed snapshot's table ends
// with its snapexFailureReason, a failed job's with its stateReason, and a
// snapshot or job that did not fail shows no reason line. -o json stays
// the Atlas SDK's model.
func TestDescribeSaysWhyItFailed(t *testing.T) {
	at := time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC)
	a := newOptionsAPI(t, at)
	ctx, st := context.Background(), a.st
	snap := func(at time.Time, status atlas.SnapshotStatus, reason string) string {
		sn := &atlas.Snapshot{ID: atlas.NewObjectID(at), GroupID: optGroup, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
			Status: status, FailureReason: reason, SnapshotType: "onDemand", FrequencyType: "ondemand", CreatedAt: at, ExpiresAt: at.Add(time.Hour), ReplicaSetName: "rs0"}
		if err := st.CreateSnapshot(ctx, sn); err != nil {
			t.Fatal(err)
		}
		return sn.ID
	}
	failed := snap(at, atlas.SnapshotFailed, `replica set "rs0" (127.0.0.1:27017): unreachable`)
	done := snap(at.Add(time.Minute), atlas.SnapshotCompleted, "")

	out, err := a.run("snapshots", "describe", failed, "--clusterName", "Cluster0")
	if err != nil || !strings.HasSuffix(out, "Reason: replica set \"rs0\" (127.0.0.1:27017): unreachable\n") {
		t.Fatalf("describe of a failed snapshot: %v\n%s", err, out)
	}
	if out, err := a.run("snapshots", "describe", done, "--clusterName", "Cluster0"); err != nil || strings.Contains(out, "Reason") {
		t.Fatalf("describe of a completed snapshot: %v\n%s", err, out)
	}
	if out, err := a.run("snapshots", "describe", failed, "--clusterName", "Cluster0", "-o", "json"); err != nil || !strings.Contains(out, `"status": "failed"`) || strings.Contains(out, "unreachable") {
		t.Fatalf("-o json is the SDK's model: %v\n%s", err, out)
	}

	job := &atlas.ExportJob{ID: atlas.NewObjectID(at), GroupID: optGroup, ClusterName: "Cluster0", SnapshotID: done, ExportBucketID: a.bucket.ID,
		State: atlas.ExportQueued, CreatedAt: at, Prefix: "exported_snapshots/x/y/Cluster0/2026-08-10T0327/1786332428"}
	if err := st.CreateExportJob(ctx, job, nil); err != nil {
		t.Fatal(err)
	}
	out, err = a.run("exports", "jobs", "describe", "--clusterName", "Cluster0", "--exportId", job.ID)
	if err != nil || strings.Contains(out, "Reason") {
		t.Fatalf("describe of a queued job: %v\n%s", err, out)
	}
	if _, err := st.UpdateExportJob(ctx, job.ID, func(j *atlas.ExportJob) error {
		j.State = atlas.ExportFailed
		j.StateReason = &atlas.StateReason{ErrorCode: string(atlas.CodeExportBucketAccessDenied), Message: "PUT shop/orders/rs0.0.json.gz: AccessDenied"}
		now := at.Add(time.Minute)
		j.FinishedAt = &now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out, err = a.run("exports", "jobs", "describe", "--clusterName", "Cluster0", "--exportId", job.ID)
	if err != nil || !strings.HasSuffix(out, "Reason: PUT shop/orders/rs0.0.json.gz: AccessDenied (EXPORT_BUCKET_ACCESS_DENIED)\n") {
		t.Fatalf("describe of a failed job: %v\n%s", err, out)
	}
}
