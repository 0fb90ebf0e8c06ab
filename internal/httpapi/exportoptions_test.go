package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

func TestExportOptionsAreStoredAndShown(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			bucketID := e.newAWSBucket("exports")
			snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
			base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
			r := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucketID,
				"snapexOptions": map[string]any{"format": "parquet", "nsInclude": []string{"shop.*"}, "nsExclude": []string{"shop.tmp*"},
					"parquet": map[string]any{"compression": "snappy", "rowGroupRows": 5000}}})
			e.expect(r, 200, "")
			got := e.do("GET", base+"/"+r.str("id"), "2023-01-01", nil)
			e.expect(got, 200, "")
			opts, ok := got.body["snapexOptions"].(map[string]any)
			if !ok || opts["format"] != "parquet" || opts["manifest"] != true || len(opts["nsInclude"].([]any)) != 1 || opts["nsExclude"].([]any)[0] != "shop.tmp*" {
				t.Fatalf("snapexOptions read back: %s", got.raw)
			}
			pq := opts["parquet"].(map[string]any)
			if pq["compression"] != "snappy" || pq["rowGroupRows"] != 5000.0 || pq["fullDocument"] != false {
				t.Fatalf("parquet options read back: %s", got.raw)
			}
			// A plain job shows no extension at all.
			snap2 := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0.Add(time.Hour))
			plain := e.do("POST", base, "2023-01-01", map[string]any{"snapshotId": snap2.ID, "exportBucketId": bucketID})
			e.expect(plain, 200, "")
			if _, ok := plain.body["snapexOptions"]; ok {
				t.Fatalf("a plain job shows snapexOptions: %s", plain.raw)
			}
		})
	}
}

func TestExportOptionErrorsNameTheField(t *testing.T) {
	e := newEnv(t, "sqlite")
	bucketID := e.newAWSBucket("exports")
	done := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	base := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	body := func(opts any) map[string]any {
		return map[string]any{"snapshotId": done.ID, "exportBucketId": bucketID, "snapexOptions": opts}
	}
	cases := []struct {
		name  string
		opts  any
		code  string
		field string
	}{
		{"not an object", "parquet", "INVALID_JSON_ATTRIBUTE", "snapexOptions"},
		{"unknown format", map[string]any{"format": "csv"}, "INVALID_ATTRIBUTE", "snapexOptions.format"},
		{"format not a string", map[string]any{"format": 1}, "INVALID_JSON_ATTRIBUTE", "snapexOptions.format"},
		{"unknown option", map[string]any{"colour": "red"}, "INVALID_ATTRIBUTE", "snapexOptions.colour"},
		{"patterns not strings", map[string]any{"nsInclude": []any{1}}, "INVALID_JSON_ATTRIBUTE", "snapexOptions.nsInclude"},
		{"empty pattern", map[string]any{"nsExclude": []string{""}}, "INVALID_ATTRIBUTE", "snapexOptions.nsExclude"},
		{"dangling escape", map[string]any{"nsInclude": []string{`db.a\`}}, "INVALID_ATTRIBUTE", "snapexOptions.nsInclude"},
		{"parquet settings for ejson", map[string]any{"parquet": map[string]any{}}, "INVALID_ATTRIBUTE", "snapexOptions.parquet"},
		{"unknown codec", map[string]any{"format": "parquet", "parquet": map[string]any{"compression": "lzo"}}, "INVALID_ATTRIBUTE", "snapexOptions.parquet.compression"},
		{"row groups too small", map[string]any{"format": "parquet", "parquet": map[string]any{"rowGroupRows": -1}}, "INVALID_ATTRIBUTE", "snapexOptions.parquet.rowGroupRows"},
		{"row groups not a number", map[string]any{"format": "parquet", "parquet": map[string]any{"rowGroupRows": "big"}}, "INVALID_JSON_ATTRIBUTE", "snapexOptions.parquet.rowGroupRows"},
		{"unknown parquet setting", map[string]any{"format": "parquet", "parquet": map[string]any{"pageSize": 1}}, "INVALID_ATTRIBUTE", "snapexOptions.parquet.pageSize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", base, "2023-01-01", body(c.opts))
			e.expect(r, 400, c.code)
			if !strings.Contains(string(r.raw), c.field) {
				t.Fatalf("error does not name %s: %s", c.field, r.raw)
			}
		})
	}
}
