package atlas

import (
	"testing"
	"time"
)

// TestSchedulePatchExportOptions: options in the export policy are
// normalised with errors under export.snapexOptions, kept by an export
// policy sent without them, and cleared on request.
func TestSchedulePatchExportOptions(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	cur := DefaultSchedule(Cluster{GroupID: "g", Name: "c"}, now)
	const bucket = "6b0000000000000000000001"
	on := true
	next, err := SchedulePatch{AutoExportEnabled: &on,
		Export: &AutoExport{ExportBucketID: bucket, FrequencyType: Monthly, SnapexOptions: &ExportOptions{Format: FormatParquet}}}.Apply(cur, now)
	if err != nil {
		t.Fatal(err)
	}
	o := next.Export.SnapexOptions
	if o == nil || !o.Manifest || o.Parquet == nil || o.Parquet.Compression != "zstd" || o.Parquet.RowGroupRows != DefaultRowGroupRows {
		t.Fatalf("options not normalised: %+v", o)
	}
	if cur.Export != nil {
		t.Fatal("Apply changed the current schedule")
	}

	kept, err := SchedulePatch{Export: &AutoExport{ExportBucketID: bucket, FrequencyType: Yearly}}.Apply(next, now)
	if err != nil || kept.Export.SnapexOptions != o || kept.Export.FrequencyType != Yearly {
		t.Fatalf("options not kept: %+v %v", kept.Export, err)
	}
	cleared, err := SchedulePatch{ClearExportOptions: true, Export: &AutoExport{ExportBucketID: bucket, FrequencyType: Yearly}}.Apply(next, now)
	if err != nil || cleared.Export.SnapexOptions != nil || next.Export.SnapexOptions == nil {
		t.Fatalf("options not cleared: %+v %v", cleared.Export, err)
	}

	for _, c := range []struct {
		opts  ExportOptions
		field string
	}{
		{ExportOptions{Format: "csv"}, "export.snapexOptions.format"},
		{ExportOptions{NSInclude: []string{""}}, "export.snapexOptions.nsInclude"},
		{ExportOptions{Parquet: &ParquetOptions{}}, "export.snapexOptions.parquet"},
		{ExportOptions{Format: FormatParquet, Parquet: &ParquetOptions{Compression: "lz4"}}, "export.snapexOptions.parquet.compression"},
		{ExportOptions{Format: FormatParquet, Parquet: &ParquetOptions{RowGroupRows: -5}}, "export.snapexOptions.parquet.rowGroupRows"},
	} {
		o := c.opts
		_, err := SchedulePatch{Export: &AutoExport{ExportBucketID: bucket, FrequencyType: Monthly, SnapexOptions: &o}}.Apply(cur, now)
		if err == nil || err.Status != 400 || len(err.Params) == 0 || err.Params[0] != c.field {
			t.Errorf("%+v: %v, want an error naming %s", c.opts, err, c.field)
		}
	}
}
