package httpapi_test

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestScheduleExportOptions: snapexOptions in the schedule's export
// policy are read like the create-export body's, stored, shown only when
// set, kept by an Atlas-shaped PATCH and cleared by an explicit null.
func TestScheduleExportOptions(t *testing.T) {
	e := newEnv(t, "sqlite")
	path := groupPath(groupP1) + "/clusters/Cluster0/backup/schedule"
	bucket := e.newAWSBucket("scheduled")
	plainPolicy := map[string]any{"exportBucketId": bucket, "frequencyType": "monthly"}
	e.expect(e.do("PATCH", path, "2024-08-05", map[string]any{"autoExportEnabled": true, "export": plainPolicy}), 200, "")
	plain := map[string]map[string]any{}
	for _, v := range []string{"2023-01-01", "2024-08-05"} {
		r := e.do("GET", path, v, nil)
		e.expect(r, 200, "")
		if exp := r.body["export"].(map[string]any); len(exp) != 2 || exp["exportBucketId"] != bucket || exp["frequencyType"] != "monthly" {
			t.Fatalf("%s: export policy without options renders %v", v, exp)
		}
		plain[v] = r.body
	}

	for _, v := range []string{"2023-01-01", "2024-08-05"} {
		t.Run(v, func(t *testing.T) {
			p := e.do("PATCH", path, v, map[string]any{"export": map[string]any{"exportBucketId": bucket, "frequencyType": "monthly",
				"snapexOptions": map[string]any{"format": "parquet", "nsExclude": []string{"admin.*"}, "parquet": map[string]any{"compression": "gzip", "fullDocument": true}}}})
			e.expect(p, 200, "")
			for _, r := range []response{p, e.do("GET", path, v, nil)} {
				opts, _ := r.body["export"].(map[string]any)["snapexOptions"].(map[string]any)
				pq, _ := opts["parquet"].(map[string]any)
				if opts["format"] != "parquet" || opts["manifest"] != true || opts["nsExclude"].([]any)[0] != "admin.*" ||
					pq["compression"] != "gzip" || pq["fullDocument"] != true || pq["rowGroupRows"] != 100000.0 {
					t.Fatalf("options read back: %s", r.raw)
				}
			}
			// An Atlas client's PATCH of the export policy keeps them.
			k := e.do("PATCH", path, v, map[string]any{"export": plainPolicy, "restoreWindowDays": 3})
			e.expect(k, 200, "")
			if _, ok := k.body["export"].(map[string]any)["snapexOptions"]; !ok {
				t.Fatalf("options dropped by a PATCH without them: %s", k.raw)
			}
			// null clears them and the schedule renders as before.
			e.expect(e.do("PATCH", path, v, map[string]any{"restoreWindowDays": plain[v]["restoreWindowDays"],
				"export": map[string]any{"exportBucketId": bucket, "frequencyType": "monthly", "snapexOptions": nil}}), 200, "")
			g := e.do("GET", path, v, nil)
			e.expect(g, 200, "")
			if !sameIgnoring(g.body, plain[v], "nextSnapshot") {
				t.Fatalf("after clearing the options:\n%s\nbefore:\n%v", g.raw, plain[v])
			}
		})
	}

	bad := []struct {
		opts  any
		code  string
		field string
	}{
		{"parquet", "INVALID_JSON_ATTRIBUTE", "export.snapexOptions"},
		{map[string]any{"format": "csv"}, "INVALID_ATTRIBUTE", "export.snapexOptions.format"},
		{map[string]any{"format": true}, "INVALID_JSON_ATTRIBUTE", "export.snapexOptions.format"},
		{map[string]any{"colour": "red"}, "INVALID_ATTRIBUTE", "export.snapexOptions.colour"},
		{map[string]any{"nsInclude": []string{`db.a\`}}, "INVALID_ATTRIBUTE", "export.snapexOptions.nsInclude"},
		{map[string]any{"parquet": map[string]any{}}, "INVALID_ATTRIBUTE", "export.snapexOptions.parquet"},
		{map[string]any{"format": "parquet", "parquet": map[string]any{"compression": "lzo"}}, "INVALID_ATTRIBUTE", "export.snapexOptions.parquet.compression"},
		{map[string]any{"format": "parquet", "parquet": map[string]any{"rowGroupRows": 0.5}}, "INVALID_JSON_ATTRIBUTE", "export.snapexOptions.parquet.rowGroupRows"},
		{map[string]any{"format": "parquet", "parquet": map[string]any{"rowGroupRows": 20_000_000}}, "INVALID_ATTRIBUTE", "export.snapexOptions.parquet.rowGroupRows"},
	}
	for _, b := range bad {
		r := e.do("PATCH", path, "2024-08-05", map[string]any{"export": map[string]any{"exportBucketId": bucket, "frequencyType": "monthly", "snapexOptions": b.opts}})
		e.expect(r, 400, b.code)
		if params, _ := r.body["parameters"].([]any); len(params) == 0 || params[0] != b.field {
			t.Errorf("%v: parameters %v, want %s first", b.opts, r.body["parameters"], b.field)
		}
	}
	// Other fields of the export object name themselves too.
	r := e.do("PATCH", path, "2024-08-05", map[string]any{"export": map[string]any{"exportBucketId": bucket, "frequencyType": "monthly", "format": "parquet"}})
	e.expect(r, 400, "INVALID_ATTRIBUTE")
	if params, _ := r.body["parameters"].([]any); len(params) == 0 || params[0] != "export.format" {
		t.Errorf("unknown export field: %s", r.raw)
	}
	e.expect(e.do("PATCH", path, "2024-08-05", map[string]any{"export": "monthly"}), 400, "INVALID_JSON_ATTRIBUTE")
}

// sameIgnoring compares two decoded JSON objects without the named keys.
func sameIgnoring(a, b map[string]any, skip ...string) bool {
	strip := func(m map[string]any) map[string]any {
		raw, _ := json.Marshal(m)
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		for _, k := range skip {
			delete(out, k)
		}
		return out
	}
	return reflect.DeepEqual(strip(a), strip(b))
}
