package restore_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// TestRestoreDuplicatePolicies: documents whose _id is already in the
// target stop the restore (fail), keep the stored version (skip) or are
// replaced (upsert); --drop starts from an empty collection. The count
// check accounts for each.
func TestRestoreDuplicatePolicies(t *testing.T) {
	dir := t.TempDir()
	want := atlasExport(t, dir)
	client := connect(t, testenv.FerretDB(t))
	ctx := context.Background()
	movies := want["sample_mflix.movies"]
	only := restore.NamespaceOptions{Include: []string{"sample_mflix.movies"}}

	for _, policy := range []restore.DuplicatePolicy{restore.DuplicatesFail, restore.DuplicatesSkip, restore.DuplicatesUpsert, "drop"} {
		t.Run(string(policy), func(t *testing.T) {
			coll := client.Database("dups_" + string(policy)).Collection("movies")
			// Three exported _ids with other content, and one extra document.
			pre := []any{
				bson.D{{Key: "_id", Value: movies[3][0].Value}, {Key: "old", Value: true}},
				bson.D{{Key: "_id", Value: movies[450][0].Value}, {Key: "old", Value: true}},
				bson.D{{Key: "_id", Value: movies[699][0].Value}, {Key: "old", Value: true}},
				bson.D{{Key: "_id", Value: "extra"}, {Key: "old", Value: true}},
			}
			if _, err := coll.InsertMany(ctx, pre); err != nil {
				t.Fatal(err)
			}
			o := restore.Options{BatchDocs: 100, Namespaces: restore.NamespaceOptions{Include: only.Include,
				From: []string{"sample_mflix.movies"}, To: []string{coll.Database().Name() + ".movies"}}}
			if policy == "drop" {
				o.Drop = true
			} else {
				o.Duplicates = policy
			}
			rep, err := engine(t, openDir(t, dir), atlasPrefix, client, o).Run(ctx)
			got := canonicalDocs(t, coll)
			old := 0
			for _, d := range got {
				if strings.Contains(d, `"old":true`) {
					old++
				}
			}
			switch policy {
			case restore.DuplicatesFail:
				if err == nil || !strings.Contains(err.Error(), "is already in dups_fail.movies") || !strings.Contains(err.Error(), atlasRS) {
					t.Fatalf("error %v, want a duplicate naming the file", err)
				}
				return
			case restore.DuplicatesSkip:
				if err != nil {
					t.Fatal(err)
				}
				if nr := rep.Namespaces[0]; nr.Duplicates != 3 || nr.PreCount != 4 || nr.Counted != 701 || nr.Expected != 701 {
					t.Errorf("report %+v", nr)
				}
				if old != 4 {
					t.Errorf("%d old documents kept, want 4", old)
				}
			case restore.DuplicatesUpsert:
				if err != nil {
					t.Fatal(err)
				}
				if nr := rep.Namespaces[0]; nr.Duplicates != 3 || nr.Counted != 701 {
					t.Errorf("report %+v", nr)
				}
				if old != 1 {
					t.Errorf("%d old documents left, want only the extra one", old)
				}
				exp := map[string]string{canonical(t, bson.D{{Key: "_id", Value: "extra"}}): canonical(t, pre[3])}
				for _, d := range movies {
					exp[canonical(t, bson.D{d[0]})] = canonical(t, d)
				}
				sameDocs(t, "upserted", got, exp)
			case "drop":
				if err != nil {
					t.Fatal(err)
				}
				if nr := rep.Namespaces[0]; nr.Duplicates != 0 || nr.PreCount != 0 || nr.Counted != 700 || old != 0 {
					t.Errorf("report %+v, %d old documents", nr, old)
				}
			}
		})
	}
}
