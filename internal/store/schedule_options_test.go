package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// TestAutoExportOptionsStored: a schedule's export policy options and a
// scheduled snapshot's automatic export options survive the round trip
// on both engines; a snapshot queued without them reads back nil.
func TestAutoExportOptionsStored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		opts := &atlas.ExportOptions{Format: atlas.FormatParquet, NSExclude: []string{"admin.*"}, Manifest: true,
			Parquet: &atlas.ParquetOptions{Compression: "gzip", RowGroupRows: 500, FullDocument: true}}
		sch := atlas.DefaultSchedule(atlas.Cluster{GroupID: group, Name: "Cluster0"}, t0)
		sch.AutoExportEnabled = true
		sch.Export = &atlas.AutoExport{ExportBucketID: "6b0000000000000000000001", FrequencyType: atlas.Daily, SnapexOptions: opts}
		if err := s.CreateScheduleIfAbsent(ctx, sch, t0, t0); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.GetSchedule(ctx, group, "Cluster0")
		if err != nil || got.Export == nil || !reflect.DeepEqual(got.Export.SnapexOptions, opts) {
			t.Fatalf("schedule export policy %+v (%v)", got.Export, err)
		}

		slot := t0.Add(time.Hour).Truncate(time.Hour)
		for i, o := range []*atlas.ExportOptions{opts, nil} {
			sn := &atlas.Snapshot{ID: []string{"7c0000000000000000000001", "7c0000000000000000000002"}[i], GroupID: group, ClusterName: "Cluster0",
				Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotQueued, SnapshotType: "scheduled", FrequencyType: "daily", ReplicaSetName: "rs0", CreatedAt: slot}
			at := slot.Add(time.Duration(i) * 24 * time.Hour)
			prev := t0
			if i > 0 {
				prev = slot
			}
			meta := atlas.ScheduledSnapshot{ScheduledFor: at, PolicyItems: []string{sch.Items[1].ID}, AutoExportBucket: sch.Export.ExportBucketID, AutoExportOptions: o}
			if err := s.CreateScheduledSnapshot(ctx, sn, meta, prev, 7, nil); err != nil {
				t.Fatal(err)
			}
			m, err := s.ScheduledSnapshotOf(ctx, sn.ID)
			if err != nil || !reflect.DeepEqual(m.AutoExportOptions, o) {
				t.Fatalf("snapshot %d options %+v (%v), want %+v", i, m.AutoExportOptions, err, o)
			}
			all, err := s.ScheduledSnapshotsOf(ctx, group, "Cluster0")
			if err != nil || !reflect.DeepEqual(all[sn.ID].AutoExportOptions, o) {
				t.Fatalf("listed snapshot %d options %+v (%v)", i, all[sn.ID].AutoExportOptions, err)
			}
		}
	})
}
