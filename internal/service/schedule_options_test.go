package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// TestAutoExportCarriesScheduleOptions moves the injected clock over two
// daily slots: the snapshot queued while the export policy has Parquet
// options gets an automatic export job with those options, even though
// they are cleared before it completes; the next one is a plain export.
func TestAutoExportCarriesScheduleOptions(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: day("2026-05-01T22:00")}
	svc, cl, obs := newService(t, clk)
	tr, zero := true, 0
	daily := atlas.PolicyItem{FrequencyType: atlas.Daily, FrequencyInterval: 1, RetentionUnit: atlas.RetainDays, RetentionValue: 7}

	// A bad option is refused with the attribute named.
	_, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{AutoExportEnabled: &tr,
		Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Daily, SnapexOptions: &atlas.ExportOptions{Format: "csv"}}})
	var ae *atlas.Error
	if !asAtlas(err, &ae) || ae.Status != 400 || len(ae.Params) == 0 || ae.Params[0] != "export.snapexOptions.format" {
		t.Fatalf("bad format: %v", err)
	}

	sch, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{
		Policies:           &[]atlas.PolicyPatch{{Items: []atlas.PolicyItem{daily}}},
		ReferenceHourOfDay: &zero, ReferenceMinuteOfHour: &zero, AutoExportEnabled: &tr,
		Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Daily,
			SnapexOptions: &atlas.ExportOptions{Format: atlas.FormatParquet, NSInclude: []string{"shop.*"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := sch.Export.SnapexOptions; o == nil || o.Parquet == nil || o.Parquet.Compression != "zstd" || !o.Manifest {
		t.Fatalf("stored options not normalised: %+v", o)
	}
	// An export policy sent without options (as an Atlas client does)
	// keeps them.
	sch, err = svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Daily}})
	if err != nil || sch.Export.SnapexOptions == nil || sch.Export.SnapexOptions.Format != atlas.FormatParquet {
		t.Fatalf("options lost by an Atlas-shaped PATCH: %+v %v", sch.Export, err)
	}

	first := queueSlot(t, svc, clk, day("2026-05-02T00:01"))
	// Cleared before the snapshot completes: the snapshot keeps the
	// options it was queued with, as it keeps its bucket.
	if _, err := svc.UpdateSchedule(ctx, cl, atlas.SchedulePatch{ClearExportOptions: true,
		Export: &atlas.AutoExport{ExportBucketID: schedBucketID, FrequencyType: atlas.Daily}}); err != nil {
		t.Fatal(err)
	}
	job := completeSlot(t, svc, first)
	if o := job.Options; o == nil || o.Format != atlas.FormatParquet || len(o.NSInclude) != 1 || o.NSInclude[0] != "shop.*" || o.Parquet == nil {
		t.Fatalf("auto export of the Parquet-scheduled snapshot has options %+v", o)
	}
	stored, err := svc.GetExportJob(ctx, schedGroupID, "Cluster0", job.ID)
	if err != nil || stored.Options == nil || stored.Options.Format != atlas.FormatParquet {
		t.Fatalf("stored job options %+v (%v)", stored, err)
	}

	second := queueSlot(t, svc, clk, day("2026-05-03T00:01"))
	if job := completeSlot(t, svc, second); job.Options != nil {
		t.Fatalf("auto export after the options were cleared has options %+v", job.Options)
	}
	if obs.exported != 2 {
		t.Fatalf("%d automatic exports, want 2", obs.exported)
	}
}

// queueSlot runs a scheduling pass at the given time and returns the one
// scheduled snapshot it queued.
func queueSlot(t *testing.T, svc *service.Service, clk *clock, at time.Time) *atlas.Snapshot {
	t.Helper()
	ctx := context.Background()
	clk.t = at
	if err := svc.RunSchedules(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, err := svc.ListSnapshots(ctx, schedGroupID, "Cluster0", atlas.ReplicaSetSnapshot, atlas.Page{Number: 1, ItemsPerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	var queued []*atlas.Snapshot
	for _, sn := range list {
		if sn.SnapshotType == "scheduled" && sn.Status == atlas.SnapshotQueued {
			queued = append(queued, sn)
		}
	}
	if len(queued) != 1 {
		t.Fatalf("%d queued scheduled snapshots at %v, want 1", len(queued), at)
	}
	return queued[0]
}

// completeSlot completes a scheduled snapshot as the taker would and
// returns the automatic export job the completion created.
func completeSlot(t *testing.T, svc *service.Service, sn *atlas.Snapshot) *atlas.ExportJob {
	t.Helper()
	ctx := context.Background()
	if _, err := svc.Repo.UpdateSnapshot(ctx, sn.ID, func(x *atlas.Snapshot) error {
		x.Status = atlas.SnapshotCompleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := svc.SnapshotCompleted(ctx, sn.ID); err != nil {
		t.Fatal(err)
	}
	jobs, _, err := svc.ListExportJobs(ctx, schedGroupID, "Cluster0", atlas.Page{Number: 1, ItemsPerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.SnapshotID == sn.ID {
			return j
		}
	}
	t.Fatalf("no automatic export job for snapshot %s", sn.ID)
	return nil
}
