package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

func (e *env) newAWSBucket(name string) string {
	e.t.Helper()
	r := e.do("POST", groupPath(groupP1)+bucketsPath, "2024-05-30", map[string]any{"cloudProvider": "AWS", "bucketName": name, "iamRoleId": awsRole})
	e.expect(r, 200, "")
	return r.str("_id")
}

func TestExportJobLifecycle(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			bucketID := e.newAWSBucket("exports")
			snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
			base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"

			before := time.Now().Truncate(time.Second)
			r := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
			e.expect(r, 200, "")
			created, err := time.Parse(time.RFC3339, r.str("createdAt"))
			if err != nil || created.Before(before) {
				t.Fatalf("createdAt %q: %v", r.str("createdAt"), err)
			}
			wantPrefix := fmt.Sprintf("exported_snapshots/%s/%s/Cluster0/2026-08-10T0327/%d", orgA, groupP1, created.Unix())
			if r.str("prefix") != wantPrefix || r.str("state") != "Queued" || r.body["components"] != nil || r.body["links"] != nil {
				t.Fatalf("create body: %s\nwant prefix %s", r.raw, wantPrefix)
			}
			if cd, ok := r.body["customData"].([]any); !ok || len(cd) != 0 {
				t.Fatalf("customData must be [] when absent: %s", r.raw)
			}
			if st := r.body["exportStatus"].(map[string]any); st["exportedCollections"] != 0.0 || st["totalCollections"] != 0.0 {
				t.Fatalf("exportStatus: %s", r.raw)
			}
			jobID := r.str("id")

			e.expect(e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID}), 409, "EXPORT_ALREADY_IN_PROGRESS")
			e.expect(e.do("DELETE", groupPath(groupP1)+bucketsPath+"/"+bucketID, "2023-01-01", nil), 400, "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE")

			got := e.do("GET", base+"/"+jobID, "2023-01-01", nil)
			e.expect(got, 200, "")
			if got.str("prefix") != wantPrefix {
				t.Fatalf("GET differs from create: %s", got.raw)
			}
			list := e.do("GET", base, "2023-01-01", nil)
			e.expect(list, 200, "")
			if list.body["totalCount"] != 1.0 {
				t.Fatalf("list: %s", list.raw)
			}

			snap2 := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0.Add(time.Hour))
			custom := []map[string]string{{"key": "team", "value": "data"}, {"key": "ticket", "value": "OPS-1"}}
			r2 := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap2.ID, "exportBucketId": bucketID, "customData": custom})
			e.expect(r2, 200, "")
			if cd := r2.body["customData"].([]any); len(cd) != 2 || cd[1].(map[string]any)["value"] != "OPS-1" {
				t.Fatalf("customData not echoed: %s", r2.raw)
			}
		})
	}
}

func TestExportJobErrors(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("exports")
	done := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	queued := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotQueued, snapT0.Add(time.Hour))
	otherCluster := e.addSnapshot(groupP1, "Sharded0", atlas.ShardedClusterSnapshot, atlas.SnapshotCompleted, snapT0)
	base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no snapshot", map[string]any{"exportBucketId": bucketID}, 400, "MISSING_ATTRIBUTE"},
		{"no bucket", map[string]any{"snapshotId": done.ID}, 400, "MISSING_ATTRIBUTE"},
		{"malformed snapshot id", map[string]any{"snapshotId": "zzz", "exportBucketId": bucketID}, 400, "INVALID_ATTRIBUTE"},
		{"unknown snapshot", map[string]any{"snapshotId": "6c0000000000000000000fff", "exportBucketId": bucketID}, 404, "SNAPSHOT_NOT_FOUND"},
		{"snapshot of other cluster", map[string]any{"snapshotId": otherCluster.ID, "exportBucketId": bucketID}, 404, "SNAPSHOT_NOT_FOUND"},
		{"snapshot not completed", map[string]any{"snapshotId": queued.ID, "exportBucketId": bucketID}, 400, "INVALID_ATTRIBUTE"},
		{"unknown bucket", map[string]any{"snapshotId": done.ID, "exportBucketId": "6b0000000000000000000fff"}, 404, "EXPORT_BUCKET_NOT_FOUND"},
		{"customData wrong type", map[string]any{"snapshotId": done.ID, "exportBucketId": bucketID, "customData": "x"}, 400, "INVALID_JSON_ATTRIBUTE"},
		{"customData unknown field", map[string]any{"snapshotId": done.ID, "exportBucketId": bucketID, "customData": []any{map[string]any{"key": "a", "bogus": 1}}}, 400, "INVALID_JSON_ATTRIBUTE"},
		{"customData empty key", map[string]any{"snapshotId": done.ID, "exportBucketId": bucketID, "customData": []any{map[string]any{"value": "a"}}}, 400, "MISSING_ATTRIBUTE"},
		{"unknown field", map[string]any{"snapshotId": done.ID, "exportBucketId": bucketID, "deliveryUrl": []string{}}, 400, "INVALID_ATTRIBUTE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { e.expect(e.do("POST", base, "2023-01-01", c.body), c.status, c.code) })
	}
	// A bucket of another project is not found from this one.
	p3 := e.doAs(orgBKey, orgBPriv, "POST", groupPath(groupP3)+bucketsPath, "2024-05-30",
		map[string]any{"cloudProvider": "AWS", "bucketName": "p3-bucket", "iamRoleId": p3AWSRole})
	e.expect(p3, 200, "")
	e.expect(e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": done.ID, "exportBucketId": p3.str("_id")}), 404, "EXPORT_BUCKET_NOT_FOUND")

	e.expect(e.do("GET", base+"/6d0000000000000000000fff", "2023-01-01", nil), 404, "RESOURCE_NOT_FOUND")
	e.expect(e.do("GET", base+"/nope", "2023-01-01", nil), 400, "INVALID_PATH_PARAMETER")
	e.expect(e.do("GET", groupPath(groupP1)+"/clusters/NoSuch/backup/exports", "2023-01-01", nil), 404, "CLUSTER_NOT_FOUND")
	e.expect(e.do("GET", groupPath(groupP1)+"/clusters/-bad/backup/exports", "2023-01-01", nil), 400, "INVALID_PATH_PARAMETER")
}

func TestShardedExportHasComponents(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("exports")
	snap := e.addSnapshot(groupP1, "Sharded0", atlas.ShardedClusterSnapshot, atlas.SnapshotCompleted, snapT0)
	r := e.do("POST", groupPath(groupP1)+"/clusters/Sharded0/backup/exports", "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
	e.expect(r, 200, "")
	comps, _ := r.body["components"].([]any)
	if len(comps) != 3 {
		t.Fatalf("want one component per replica set: %s", r.raw)
	}
	names := map[string]bool{}
	for _, c := range comps {
		m := c.(map[string]any)
		names[m["replicaSetName"].(string)] = true
		if !atlas.ValidObjectID(m["exportId"].(string)) {
			t.Fatalf("component exportId: %v", m)
		}
	}
	if !names["shard0"] || !names["shard1"] || !names["configRS"] {
		t.Fatalf("components: %v", names)
	}
}

func TestSnapshotRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	rs := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	queued := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotQueued, snapT0.Add(time.Hour))
	sh := e.addSnapshot(groupP1, "Sharded0", atlas.ShardedClusterSnapshot, atlas.SnapshotCompleted, snapT0)
	c0 := groupPath(groupP1) + "/clusters/Cluster0/backup/snapshots"
	s0 := groupPath(groupP1) + "/clusters/Sharded0/backup/snapshots"

	list := e.do("GET", c0, "2023-01-01", nil)
	e.expect(list, 200, "")
	res := list.body["results"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["id"] != queued.ID {
		t.Fatalf("newest first: %s", list.raw)
	}
	q := res[0].(map[string]any)
	if q["createdAt"] != nil || q["mongodVersion"] != nil || q["status"] != "queued" {
		t.Fatalf("a queued snapshot shows no createdAt/mongodVersion: %v", q)
	}
	one := e.do("GET", c0+"/"+rs.ID, "2023-01-01", nil)
	e.expect(one, 200, "")
	if one.str("createdAt") != "2026-08-10T03:27:08Z" || one.str("type") != "replicaSet" || one.str("replicaSetName") != "rs0" {
		t.Fatalf("snapshot: %s", one.raw)
	}
	shl := e.do("GET", s0+"/shardedClusters", "2023-01-01", nil)
	e.expect(shl, 200, "")
	if shl.body["totalCount"] != 1.0 {
		t.Fatalf("sharded list: %s", shl.raw)
	}
	sho := e.do("GET", s0+"/shardedCluster/"+sh.ID, "2023-01-01", nil)
	e.expect(sho, 200, "")
	if m := sho.body["members"].([]any); len(m) != 3 || len(sho.body["snapshotIds"].([]any)) != 3 {
		t.Fatalf("sharded snapshot: %s", sho.raw)
	}
	e.expect(e.do("GET", s0+"/"+sh.ID, "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	e.expect(e.do("GET", c0+"/shardedCluster/"+rs.ID, "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	e.expect(e.do("GET", c0+"/6c0000000000000000000fff", "2023-01-01", nil), 404, "SNAPSHOT_NOT_FOUND")
	e.expect(e.do("GET", c0+"/bad", "2023-01-01", nil), 404, "INVALID_SNAPSHOT_ID")
}

func TestClusterRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	list := e.do("GET", groupPath(groupP1)+"/clusters", "2024-10-23", nil)
	e.expect(list, 200, "")
	if list.body["totalCount"] != 2.0 {
		t.Fatalf("clusters: %s", list.raw)
	}
	one := e.do("GET", groupPath(groupP1)+"/clusters/Sharded0", "2024-08-05", nil)
	e.expect(one, 200, "")
	if one.str("clusterType") != "SHARDED" || one.body["backupEnabled"] != true || one.str("stateName") != "IDLE" {
		t.Fatalf("cluster: %s", one.raw)
	}
	c0 := e.do("GET", groupPath(groupP1)+"/clusters/Cluster0", "2024-08-05", nil)
	if c0.str("mongoDBMajorVersion") != "7.0" || len(c0.body["labels"].([]any)) != 1 {
		t.Fatalf("cluster0: %s", c0.raw)
	}
	e.expect(e.do("GET", groupPath(groupP1)+"/clusters/Nope", "2024-08-05", nil), 404, "CLUSTER_NOT_FOUND")
}

func TestSimultaneousExportsGetDistinctPrefixes(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("exports")
	prefixes := map[string]bool{}
	for i := 0; i < 4; i++ {
		snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0.Add(time.Duration(i)*time.Second))
		r := e.do("POST", groupPath(groupP1)+"/clusters/Cluster0/backup/exports", "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID})
		e.expect(r, 200, "")
		if prefixes[r.str("prefix")] {
			t.Fatalf("prefix %s given to two jobs of one bucket", r.str("prefix"))
		}
		prefixes[r.str("prefix")] = true
	}
}
