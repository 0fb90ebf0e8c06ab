package cli

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestScheduleUpdateSendsExportOptions runs `schedule update` against a
// real snapex API: --exportFormat and the other export option flags land
// in the stored schedule's export policy (bucket and frequency taken from
// the current schedule when not given), --exportPlain clears them, and a
// bad value comes back naming the field.
func TestScheduleUpdateSendsExportOptions(t *testing.T) {
	ctx := context.Background()
	a := newOptionsAPI(t, time.Date(2026, 8, 10, 3, 27, 8, 0, time.UTC))
	base := []string{"schedule", "update", "--clusterName", "Cluster0", "-o", "json"}
	out, err := a.run(append(base, "--autoExport", "--exportBucketId", a.bucket.ID, "--exportFrequencyType", "monthly")...)
	if err != nil {
		t.Fatalf("enable auto export: %v\n%s", err, out)
	}
	out, err = a.run(append(base, "--exportFormat", "parquet", "--exportNsInclude", "shop.*", "--exportParquetCompression", "snappy")...)
	if err != nil {
		t.Fatalf("set options: %v\n%s", err, out)
	}
	sch, _, err := a.st.GetSchedule(ctx, optGroup, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	e := sch.Export
	if e == nil || e.ExportBucketID != a.bucket.ID || e.FrequencyType != "monthly" || e.SnapexOptions == nil ||
		e.SnapexOptions.Format != "parquet" || strings.Join(e.SnapexOptions.NSInclude, ",") != "shop.*" ||
		e.SnapexOptions.Parquet == nil || e.SnapexOptions.Parquet.Compression != "snappy" {
		t.Fatalf("stored export policy %+v", e)
	}

	out, err = a.run(append(base, "--exportFormat", "csv")...)
	if err == nil || !strings.Contains(err.Error(), "export.snapexOptions.format") {
		t.Fatalf("bad format: %v\n%s", err, out)
	}

	out, err = a.run(append(base, "--exportPlain")...)
	if err != nil {
		t.Fatalf("clear options: %v\n%s", err, out)
	}
	sch, _, err = a.st.GetSchedule(ctx, optGroup, "Cluster0")
	if err != nil || sch.Export == nil || sch.Export.SnapexOptions != nil || sch.Export.ExportBucketID != a.bucket.ID || !sch.AutoExportEnabled {
		t.Fatalf("after --exportPlain: %+v %v", sch, err)
	}
}
