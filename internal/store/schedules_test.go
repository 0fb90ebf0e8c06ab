package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// TestScheduledSlotTakenOnce races eight claimants for one slot on each
// engine: exactly one snapshot is created, the others get ErrSlotTaken,
// and a second slot is claimable only from the new last slot.
func TestScheduledSlotTakenOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		cl := atlas.Cluster{GroupID: group, Name: "Cluster0"}
		sch := atlas.DefaultSchedule(cl, t0)
		if err := s.CreateScheduleIfAbsent(ctx, sch, t0, t0); err != nil {
			t.Fatal(err)
		}
		// A second create keeps the first schedule.
		if err := s.CreateScheduleIfAbsent(ctx, atlas.DefaultSchedule(cl, t0.Add(time.Hour)), t0.Add(time.Hour), t0); err != nil {
			t.Fatal(err)
		}
		got, last, err := s.GetSchedule(ctx, group, "Cluster0")
		if err != nil || got.PolicyID != sch.PolicyID || !last.Equal(t0) || len(got.Items) != 4 || got.Items[3].FrequencyInterval != 40 {
			t.Fatalf("schedule %+v last %v err %v", got, last, err)
		}
		slot := t0.Add(6 * time.Hour).Truncate(time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sn := &atlas.Snapshot{ID: fmt.Sprintf("7a%022x", i), GroupID: group, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
					Status: atlas.SnapshotQueued, SnapshotType: "scheduled", FrequencyType: "hourly", ReplicaSetName: "rs0", CreatedAt: slot}
				err := s.CreateScheduledSnapshot(ctx, sn, atlas.ScheduledSnapshot{ScheduledFor: slot, PolicyItems: []string{sch.Items[0].ID}, AutoExportBucket: "b"}, t0, 7, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrSlotTaken):
					lost++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != 7 {
			t.Fatalf("won %d lost %d, want 1 and 7", won, lost)
		}
		if _, last, _ := s.GetSchedule(ctx, group, "Cluster0"); !last.Equal(slot) {
			t.Fatalf("last slot %v, want %v", last, slot)
		}
		snaps, err := s.ScheduledSnapshotsOf(ctx, group, "Cluster0")
		if err != nil || len(snaps) != 1 {
			t.Fatalf("scheduled snapshots %v %v", snaps, err)
		}
		for id, m := range snaps {
			if !m.ScheduledFor.Equal(slot) || len(m.PolicyItems) != 1 || m.AutoExportBucket != "b" {
				t.Fatalf("snapshot %s: %+v", id, m)
			}
			// Not completed yet: no automatic export is pending.
			if ids, err := s.PendingAutoExports(ctx); err != nil || len(ids) != 0 {
				t.Fatalf("pending auto exports %v %v", ids, err)
			}
			if _, err := s.UpdateSnapshot(ctx, id, func(x *atlas.Snapshot) error { x.Status = atlas.SnapshotCompleted; return nil }); err != nil {
				t.Fatal(err)
			}
			if ids, err := s.PendingAutoExports(ctx); err != nil || len(ids) != 1 || ids[0] != id {
				t.Fatalf("pending auto exports %v %v", ids, err)
			}
			if err := s.DropAutoExport(ctx, id); err != nil {
				t.Fatal(err)
			}
			if ids, _ := s.PendingAutoExports(ctx); len(ids) != 0 {
				t.Fatalf("dropped auto export still pending: %v", ids)
			}
			m2, err := s.SnapshotPolicyItems(ctx, []string{id, "missing"})
			if err != nil || len(m2) != 1 || m2[id][0] != sch.Items[0].ID {
				t.Fatalf("policy items %v %v", m2, err)
			}
		}
		// Saving the schedule with an older last slot (a PATCH that read it
		// before the pass) does not make the taken slot owed again.
		got, _, _ = s.GetSchedule(ctx, group, "Cluster0")
		if err := s.SaveSchedule(ctx, got, t0, t0); err != nil {
			t.Fatal(err)
		}
		if _, last, _ := s.GetSchedule(ctx, group, "Cluster0"); !last.Equal(slot) {
			t.Fatalf("last slot after a stale save %v, want %v", last, slot)
		}
		// A claim from a stale last slot loses.
		sn := &atlas.Snapshot{ID: "7b0000000000000000000001", GroupID: group, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
			Status: atlas.SnapshotQueued, SnapshotType: "scheduled", FrequencyType: "hourly", ReplicaSetName: "rs0", CreatedAt: slot}
		if err := s.CreateScheduledSnapshot(ctx, sn, atlas.ScheduledSnapshot{ScheduledFor: slot.Add(6 * time.Hour)}, t0, 7, nil); !errors.Is(err, store.ErrSlotTaken) {
			t.Fatalf("stale claim: %v", err)
		}
	})
}

// TestBucketUsedBySchedule refuses deleting a bucket an auto-export
// policy names, reporting the clusters.
func TestBucketUsedBySchedule(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"Beta", "Alpha"} {
			sch := atlas.DefaultSchedule(atlas.Cluster{GroupID: group, Name: name}, t0)
			sch.AutoExportEnabled, sch.Export = true, &atlas.AutoExport{ExportBucketID: b.ID, FrequencyType: atlas.Monthly}
			if err := s.CreateScheduleIfAbsent(ctx, sch, t0, t0); err != nil {
				t.Fatal(err)
			}
		}
		var used *atlas.BucketScheduled
		if err := s.DeleteBucket(ctx, group, b.ID); !errors.As(err, &used) || fmt.Sprint(used.Clusters) != "[Alpha Beta]" {
			t.Fatalf("delete bucket used by schedules: %v", err)
		}
		for _, name := range []string{"Alpha", "Beta"} {
			sch, last, err := s.GetSchedule(ctx, group, name)
			if err != nil {
				t.Fatal(err)
			}
			sch.AutoExportEnabled = false
			if err := s.SaveSchedule(ctx, sch, last, t0); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteBucket(ctx, group, b.ID); err != nil {
			t.Fatalf("delete bucket after auto export is off: %v", err)
		}
	})
}

// TestAutoExportCreatedOnce creates a completed scheduled snapshot's
// automatic export twice: the first creates the job (running its enqueue
// hook), the second gets atlas.AutoExportTaken and leaves no job or hook
// behind, and nothing is pending afterwards.
func TestAutoExportCreatedOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		if err := s.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
		cl := atlas.Cluster{GroupID: group, Name: "Cluster0"}
		if err := s.CreateScheduleIfAbsent(ctx, atlas.DefaultSchedule(cl, t0), t0, t0); err != nil {
			t.Fatal(err)
		}
		slot := t0.Add(time.Hour).Truncate(time.Hour)
		sn := &atlas.Snapshot{ID: "7c0000000000000000000001", GroupID: group, ClusterName: "Cluster0", Kind: atlas.ReplicaSetSnapshot,
			Status: atlas.SnapshotQueued, SnapshotType: "scheduled", FrequencyType: "daily", ReplicaSetName: "rs0", CreatedAt: slot}
		if err := s.CreateScheduledSnapshot(ctx, sn, atlas.ScheduledSnapshot{ScheduledFor: slot, AutoExportBucket: b.ID}, t0, 7, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateSnapshot(ctx, sn.ID, func(x *atlas.Snapshot) error { x.Status = atlas.SnapshotCompleted; return nil }); err != nil {
			t.Fatal(err)
		}
		hooks := 0
		hook := func(context.Context, store.Tx) error { hooks++; return nil }
		for i, want := range []error{nil, atlas.AutoExportTaken} {
			j := &atlas.ExportJob{ID: fmt.Sprintf("7d%022x", i), GroupID: group, ClusterName: "Cluster0", SnapshotID: sn.ID,
				ExportBucketID: b.ID, State: atlas.ExportQueued, Prefix: fmt.Sprintf("p%d", i), CreatedAt: slot}
			if err := s.CreateAutoExportJob(ctx, j, hook); !errors.Is(err, want) || (want == nil && err != nil) {
				t.Fatalf("automatic export %d: %v, want %v", i, err, want)
			}
			// The first job stays active; finish it so only the claim can
			// refuse the second.
			if i == 0 {
				if _, err := s.GetExportJob(ctx, group, "Cluster0", j.ID); err != nil {
					t.Fatal(err)
				}
				for _, st := range []atlas.ExportState{atlas.ExportInProgress, atlas.ExportSuccessful} {
					if _, err := s.UpdateExportJob(ctx, j.ID, func(x *atlas.ExportJob) error { x.State = st; return nil }); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if hooks != 1 {
			t.Fatalf("enqueue hook ran %d times, want 1", hooks)
		}
		if _, err := s.GetExportJob(ctx, group, "Cluster0", "7d0000000000000000000001"); !errors.Is(err, atlas.NotFound) {
			t.Fatalf("the refused job was stored: %v", err)
		}
		if ids, err := s.PendingAutoExports(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("pending auto exports %v %v", ids, err)
		}
	})
}
