package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestPrinterFormats: the default table aligns columns and leaves unset
// fields empty; json and go-template print the SDK object; an unknown
// format is refused with the ones that exist.
func TestPrinterFormats(t *testing.T) {
	at := time.Date(2026, 12, 5, 1, 2, 3, 456, time.UTC)
	list := &admin.PaginatedApiAtlasDiskBackupExportJob{Results: []admin.DiskBackupExportJob{
		{Id: admin.PtrString("a1"), ExportBucketId: "b1", State: admin.PtrString("Queued"), SnapshotId: admin.PtrString("s1"), CreatedAt: &at},
		{Id: admin.PtrString("a2"), ExportBucketId: "b2", State: admin.PtrString("Successful"), SnapshotId: admin.PtrString("s2"),
			ExportStatus: &admin.ExportStatus{ExportedCollections: admin.PtrInt(3), TotalCollections: admin.PtrInt(3)}},
	}}
	var out bytes.Buffer
	if err := (printer{out: &out}).print(list, jobListTable); err != nil {
		t.Fatal(err)
	}
	want := "ID    EXPORT BUCKET ID   STATE        SNAPSHOT ID   EXPORTED\n" +
		"a1    b1                 Queued       s1            \n" +
		"a2    b2                 Successful   s2            3/3\n"
	if out.String() != want {
		t.Fatalf("table:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	if err := (printer{format: "go-template={{range .Results}}{{.Id}}={{.State}} {{end}}", out: &out}).print(list, jobListTable); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a1=Queued a2=Successful " {
		t.Fatalf("go-template: %q", out.String())
	}
	out.Reset()
	if err := (printer{format: "json", out: &out}).print(list, jobListTable); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"createdAt": "2026-12-05T01:02:03.000000456Z"`) || !strings.Contains(out.String(), `"exportedCollections": 3`) {
		t.Fatalf("json: %s", out.String())
	}
	if err := validateFormat("yaml"); err == nil || !strings.Contains(err.Error(), "go-template=TEMPLATE") {
		t.Fatalf("unknown format: %v", err)
	}
}
