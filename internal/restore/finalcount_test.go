package restore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestFinalCheckReportsDifferences restores an export, changes the
// target behind the restore's back, and runs the (finished) restore again,
// which only checks the counts: a document added and a document removed
// must each be reported with the exact count, whether or not the count the
// server records is read first.
func TestFinalCheckReportsDifferences(t *testing.T) {
	dir := t.TempDir()
	want := atlasExport(t, dir)
	client := connect(t, testenv.FerretDB(t))
	ctx := context.Background()
	run := func(o restore.Options) (*restore.Report, error) {
		o.BatchDocs = 64
		return engine(t, openDir(t, dir), atlasPrefix, client, o).Run(ctx)
	}
	if rep, err := run(restore.Options{}); err != nil || rep.Mismatches != 0 {
		t.Fatalf("first restore: %+v, %v", rep, err)
	}
	movies := client.Database("sample_mflix").Collection("movies")
	if _, err := movies.InsertOne(ctx, bson.D{{Key: "_id", Value: "added behind the restore"}}); err != nil {
		t.Fatal(err)
	}
	logs := client.Database("shop").Collection("log")
	if err := logs.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, exact := range []bool{false, true} {
		rep, err := run(restore.Options{ExactCount: exact})
		if err == nil || !strings.Contains(err.Error(), "document counts differ in 2 namespaces") {
			t.Fatalf("exact=%v: err %v, want a count difference in 2 namespaces", exact, err)
		}
		if rep == nil || rep.Mismatches != 2 {
			t.Fatalf("exact=%v: report %+v", exact, rep)
		}
		for _, nr := range rep.Namespaces {
			n := int64(len(want[nr.Source]))
			switch nr.Source {
			case "sample_mflix.movies":
				n++
			case "shop.log":
				n = 0
			}
			if nr.Counted != n {
				t.Errorf("exact=%v: %s counted %d, want %d (%+v)", exact, nr.Source, nr.Counted, n, nr)
			}
			if nr.Expected != int64(len(want[nr.Source])) {
				t.Errorf("exact=%v: %s expected %d, want %d", exact, nr.Source, nr.Expected, len(want[nr.Source]))
			}
		}
	}
}
