package httpapi_test

import (
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

func TestTakeSnapshotQueuesOne(t *testing.T) {
	e := newEnv(t, "sqlite")
	path := groupPath(groupP1) + "/clusters/Cluster0/backup/snapshots"
	r := e.do("POST", path, "2023-01-01", map[string]any{"description": "nightly", "retentionInDays": 3})
	e.expect(r, 200, "")
	if r.str("status") != "queued" || r.str("snapshotType") != "onDemand" || r.str("frequencyType") != "ondemand" ||
		r.str("type") != "replicaSet" || r.str("replicaSetName") != "rs0" || r.body["createdAt"] != nil || r.str("description") != "nightly" {
		t.Fatalf("queued snapshot: %s", r.raw)
	}
	exp, err := time.Parse(time.RFC3339, r.str("expiresAt"))
	if err != nil || time.Until(exp) < 71*time.Hour || time.Until(exp) > 73*time.Hour {
		t.Fatalf("expiresAt %q", r.str("expiresAt"))
	}
	e.expect(e.do("POST", path, "2023-01-01", map[string]any{}), 400, "UNFINISHED_ON_DEMAND_SNAPSHOT")
	e.expect(e.do("DELETE", path+"/"+r.str("id"), "2023-01-01", nil), 400, "CANNOT_DELETE_IN_PROGRESS_SNAPSHOT")
	e.expect(e.do("PATCH", path+"/"+r.str("id"), "2023-01-01", map[string]any{"retentionUnit": "DAYS", "retentionValue": 5}), 400, "CANNOT_MODIFY_IN_PROGRESS_SNAPSHOT_RETENTION")
	// Another cluster is independent; a sharded one gets one member per replica set.
	sh := e.do("POST", groupPath(groupP1)+"/clusters/Sharded0/backup/snapshots", "2023-01-01", nil)
	e.expect(sh, 400, "INVALID_JSON")
	sh = e.do("POST", groupPath(groupP1)+"/clusters/Sharded0/backup/snapshots", "2023-01-01", map[string]any{})
	e.expect(sh, 200, "")
	if sh.str("type") != "shardedCluster" || len(sh.body["members"].([]any)) != 3 {
		t.Fatalf("sharded snapshot: %s", sh.raw)
	}
	for _, bad := range []map[string]any{{"retentionInDays": 0.5}, {"retentionInDays": -1}, {"retentionInDays": "3"}, {"bogus": 1}} {
		r := e.do("POST", groupPath(groupP1)+"/clusters/Cluster0/backup/snapshots", "2023-01-01", bad)
		if r.status != 400 {
			t.Fatalf("%v: %d %s", bad, r.status, r.raw)
		}
	}
}

func TestSnapshotRetentionAndDelete(t *testing.T) {
	e := newEnv(t, "sqlite")
	sn := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	path := groupPath(groupP1) + "/clusters/Cluster0/backup/snapshots/" + sn.ID
	r := e.do("PATCH", path, "2023-01-01", map[string]any{"retentionUnit": "WEEKS", "retentionValue": 2})
	e.expect(r, 200, "")
	if r.str("expiresAt") != snapT0.Add(14*24*time.Hour).Format("2006-01-02T15:04:05Z") {
		t.Fatalf("expiresAt after PATCH: %s", r.raw)
	}
	e.expect(e.do("PATCH", path, "2023-01-01", map[string]any{"retentionUnit": "FORTNIGHTS", "retentionValue": 2}), 400, "INVALID_ENUM_VALUE")
	e.expect(e.do("PATCH", path, "2023-01-01", map[string]any{"retentionUnit": "DAYS", "retentionValue": 0}), 400, "BACKUP_SNAPSHOT_RETENTION_VALUE_INVALID")
	e.expect(e.do("PATCH", path, "2023-01-01", map[string]any{"retentionUnit": "DAYS"}), 400, "MISSING_ATTRIBUTE")

	// Deleting a snapshot cancels its queued export.
	bucketID := e.newAWSBucket("exports")
	job := e.do("POST", groupPath(groupP1)+"/clusters/Cluster0/backup/exports", "2023-01-01", map[string]any{"snapshotId": sn.ID, "exportBucketId": bucketID})
	e.expect(job, 200, "")
	del := e.do("DELETE", path, "2023-01-01", nil)
	e.expect(del, 204, "")
	e.expect(e.do("GET", path, "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	got := e.do("GET", groupPath(groupP1)+"/clusters/Cluster0/backup/exports/"+job.str("id"), "2023-01-01", nil)
	if got.str("state") != "Cancelled" || got.str("finishedAt") == "" {
		t.Fatalf("export of a deleted snapshot: %s", got.raw)
	}
	e.expect(e.do("DELETE", path, "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	// Sharded snapshots are deleted through their own route only.
	sh := e.addSnapshot(groupP1, "Sharded0", atlas.ShardedClusterSnapshot, atlas.SnapshotCompleted, snapT0)
	base := groupPath(groupP1) + "/clusters/Sharded0/backup/snapshots/"
	e.expect(e.do("DELETE", base+sh.ID, "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	e.expect(e.do("DELETE", base+"shardedCluster/"+sh.ID, "2023-01-01", nil), 204, "")
}
