package export_test

import (
	"context"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// TestPatternsSelectingNothingFailTheJob: namespace patterns that leave
// nothing of a snapshot holding data (a mistyped include, or excludes
// removing every include) fail the job on its first attempt with a
// stateReason naming the patterns and the snapshot, and write no
// .complete: a Successful export of 0 collections would pass for a
// backup. Patterns that select something still export it.
func TestPatternsSelectingNothingFailTheJob(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 30, "crm.people": 10})
	for _, c := range []struct {
		name             string
		include, exclude []string
	}{
		{"include matching nothing", []string{"shop.order"}, nil},
		{"excludes removing every include", []string{"shop.*"}, []string{"shop.*"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{NSInclude: c.include, NSExclude: c.exclude})
			attempts, got := runJob(t, f.engine("w1"), f, j.ID, time.Minute)
			checkFailed(t, got, attempts, 1, string(atlas.CodeExportFailed), "select none of the 2 namespaces", f.snap.ID, c.include[0])
			for info, err := range openLocal(t, f).List(context.Background(), j.Prefix+"/") {
				if err != nil {
					t.Fatal(err)
				}
				t.Fatalf("the failed job wrote %s", info.Key)
			}
		})
	}
	j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{NSInclude: []string{"shop.orders"}})
	got := f.runOK(j)
	if got.ExportedCollections != 1 || got.TotalCollections != 1 {
		t.Fatalf("exportStatus %d/%d, want 1/1", got.ExportedCollections, got.TotalCollections)
	}
}
