package service_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/service"
	"github.com/snapex/snapex/internal/service/storerepo"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

// TestThreeReplicasThroughADay runs three services, each with its own
// store connection to one PostgreSQL as three processes would, through a
// simulated day of hourly slots: every pass runs on all three at once
// (as after a leadership hand-over), one is "killed" (stops) at noon, and
// every slot yields exactly one snapshot and every daily snapshot one
// automatic export.
func TestThreeReplicasThroughADay(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(scheduleConfig, dsn)))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	clk := &clock{t: day("2026-03-01T00:10")}
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clk.t }
	var svcs []*service.Service
	for i := 0; i < 3; i++ {
		st, err := store.Open(ctx, cfg.Database.Value())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svcs = append(svcs, &service.Service{Repo: &storerepo.Repo{Store: st}, Catalog: cfg.Catalog(), Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	}
	if err := svcs[0].Repo.CreateBucket(ctx, &atlas.ExportBucket{ID: schedBucketID, GroupID: schedGroupID, BucketName: "exports",
		CloudProvider: atlas.AWS, RoleID: schedRoleID, Region: "us-east-1", CreatedAt: clk.t}); err != nil {
		t.Fatal(err)
	}
	cl, err := svcs[1].Cluster(schedGroupID, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	zero, tr := 0, true
	if _, err := svcs[1].UpdateSchedule(ctx, cl, atlas.SchedulePatch{
		Policies: &[]atlas.PolicyPatch{{Items: []atlas.PolicyItem{
			{FrequencyType: atlas.Hourly, FrequencyInterval: 1, RetentionUnit: atlas.RetainDays, RetentionValue: 2},
			{FrequencyType: atlas.Daily, FrequencyInterval: 1, RetentionUnit: atlas.RetainDays, RetentionValue: 7},
		}}},
		ReferenceHourOfDay: &zero, ReferenceMinuteOfHour: &zero,
		AutoExportEnabled: &tr, Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Daily},
	}); err != nil {
		t.Fatal(err)
	}
	end := day("2026-03-03T00:10")
	for step := day("2026-03-01T00:20"); step.Before(end); step = step.Add(20 * time.Minute) {
		mu.Lock()
		clk.t = step
		mu.Unlock()
		live := svcs
		if !step.Before(day("2026-03-01T12:00")) {
			live = svcs[1:] // the first process was killed at noon
		}
		var wg sync.WaitGroup
		for _, s := range live {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.RunSchedules(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// The snapshot workers complete what was queued; each live process
		// calls the completion hook, as a lost or repeated call would.
		list, _, err := live[0].ListSnapshots(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, atlas.Page{Number: 1, ItemsPerPage: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, sn := range list {
			if sn.Status != atlas.SnapshotQueued {
				continue
			}
			if _, err := live[0].Repo.UpdateSnapshot(ctx, sn.ID, func(x *atlas.Snapshot) error {
				x.Status, x.CreatedAt = atlas.SnapshotCompleted, step
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for _, s := range live {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.SnapshotCompleted(ctx, sn.ID); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
	}
	snaps, err := svcs[2].Repo.ScheduledSnapshotsOf(ctx, schedGroupID, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	perSlot := map[time.Time]int{}
	for _, m := range snaps {
		perSlot[m.ScheduledFor]++
	}
	// 1 March 01:00 … 3 March 00:00: 48 hourly slots, two of them daily.
	if len(snaps) != 48 || len(perSlot) != 48 {
		t.Fatalf("%d scheduled snapshots over %d slots, want 48 and 48", len(snaps), len(perSlot))
	}
	for h := 1; h <= 48; h++ {
		slot := day("2026-03-01T00:00").Add(time.Duration(h) * time.Hour)
		if perSlot[slot] != 1 {
			t.Errorf("slot %v has %d snapshots", slot, perSlot[slot])
		}
	}
	jobs, _, err := svcs[2].ListExportJobs(ctx, schedGroupID, "Cluster0", atlas.Page{Number: 1, ItemsPerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	exported := map[time.Time]bool{}
	for _, j := range jobs {
		m, ok := snaps[j.SnapshotID]
		if !ok || exported[m.ScheduledFor] {
			t.Fatalf("export job %s of snapshot %s (slot %v) is not the only one of a scheduled snapshot", j.ID, j.SnapshotID, m.ScheduledFor)
		}
		exported[m.ScheduledFor] = true
	}
	if len(jobs) != 2 || !exported[day("2026-03-02T00:00")] || !exported[day("2026-03-03T00:00")] {
		t.Fatalf("auto exports for slots %v, want the two daily ones", exported)
	}
}
