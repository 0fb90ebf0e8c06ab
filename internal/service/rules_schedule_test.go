package service_test

import (
	"context"
	"testing"

	"github.com/snapex/snapex/internal/atlas"
)

// TestSchedulingPassOnTheFake runs scheduling passes over the in-memory
// repository: the first pass stores each cluster's default schedule and
// owes nothing; at the next slot one scheduled snapshot per cluster is
// queued, a repeated pass at the same moment adds none, and the bucket an
// auto-export policy names cannot be deleted.
func TestSchedulingPassOnTheFake(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if err := f.svc.RunSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	scheduled := func() int {
		n := 0
		for c, kind := range map[string]atlas.SnapshotKind{f.rs.Name: atlas.ReplicaSetSnapshot, f.sh.Name: atlas.ShardedClusterSnapshot} {
			list, _, err := f.svc.ListSnapshots(ctx, groupID, c, kind, atlas.Page{Number: 1, ItemsPerPage: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, sn := range list {
				if sn.SnapshotType == "scheduled" && len(sn.PolicyItems) > 0 {
					n++
				}
			}
		}
		return n
	}
	if n := scheduled(); n != 0 {
		t.Fatalf("first pass queued %d snapshots", n)
	}
	sch, err := f.svc.Schedule(ctx, f.rs)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.Schedule(ctx, f.sh)
	if err != nil {
		t.Fatal(err)
	}
	// Both clusters' next slots have passed.
	f.now = sch.NextSnapshot(f.now)
	if n := other.NextSnapshot(f.now); n.After(f.now) {
		f.now = n
	}
	for i := 0; i < 2; i++ {
		if err := f.svc.RunSchedules(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := scheduled(); n != 2 {
		t.Fatalf("passes at the slot queued %d scheduled snapshots, want one per cluster", n)
	}
	b := f.bucket(t)
	tr := true
	if _, err := f.svc.UpdateSchedule(ctx, f.rs, atlas.SchedulePatch{AutoExportEnabled: &tr,
		Export: &atlas.AutoExport{ExportBucketID: b.ID, FrequencyType: atlas.Monthly}}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "delete a bucket a schedule exports into", f.svc.DeleteBucket(ctx, groupID, b.ID), atlas.CodeExportBucketDeleteFailedBucketInUse)
}
