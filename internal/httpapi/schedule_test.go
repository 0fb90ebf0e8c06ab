package httpapi_test

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestBackupScheduleRoutes(t *testing.T) {
	e := newEnv(t, "sqlite")
	path := groupPath(groupP1) + "/clusters/Cluster0/backup/schedule"

	// The default schedule, in both versions (responses are checked against
	// the OpenAPI subset by the test transport).
	old := e.do("GET", path, "2023-01-01", nil)
	e.expect(old, 200, "")
	if !strings.HasPrefix(old.header.Get("Content-Type"), "application/vnd.atlas.2023-01-01+json") || old.header.Get("Sunset") == "" {
		t.Fatalf("2023-01-01 headers: %v", old.header)
	}
	if _, ok := old.body["autoCopySettingsEnabled"]; ok {
		t.Fatalf("2023-01-01 renders autoCopySettingsEnabled: %s", old.raw)
	}
	r := e.do("GET", path, "2024-08-05", nil)
	e.expect(r, 200, "")
	if _, ok := r.body["autoCopySettingsEnabled"]; !ok || r.str("clusterName") != "Cluster0" || len(r.str("clusterId")) != 24 {
		t.Fatalf("2024-08-05 body: %s", r.raw)
	}
	pols := r.body["policies"].([]any)
	pol := pols[0].(map[string]any)
	items := pol["policyItems"].([]any)
	var kinds []string
	for _, it := range items {
		m := it.(map[string]any)
		kinds = append(kinds, m["frequencyType"].(string)+"/"+jsonInt(m["frequencyInterval"])+"/"+jsonInt(m["retentionValue"])+m["retentionUnit"].(string))
	}
	if strings.Join(kinds, " ") != "hourly/6/7days daily/1/7days weekly/6/4weeks monthly/40/12months" {
		t.Fatalf("default policy items %v", kinds)
	}
	next, err := time.Parse(time.RFC3339, r.str("nextSnapshot"))
	if err != nil || !next.After(time.Now()) || next.After(time.Now().Add(6*time.Hour)) {
		t.Fatalf("nextSnapshot %q", r.str("nextSnapshot"))
	}

	// PATCH: keep the hourly item by id, add a yearly one, export monthly.
	bucket := e.newAWSBucket("scheduled")
	hourly := items[0].(map[string]any)
	body := map[string]any{
		"referenceHourOfDay": 3, "referenceMinuteOfHour": 45, "restoreWindowDays": 2,
		"autoExportEnabled": true, "export": map[string]any{"exportBucketId": bucket, "frequencyType": "monthly"},
		"useOrgAndGroupNamesInExportPrefix": true,
		"copySettings":                      []any{}, "extraRetentionSettings": []any{map[string]any{"frequencyType": "MONTHLY", "retentionDays": 30}},
		"policies": []any{map[string]any{"id": pol["id"], "policyItems": []any{
			map[string]any{"id": hourly["id"], "frequencyType": "hourly", "frequencyInterval": 4, "retentionUnit": "days", "retentionValue": 3},
			map[string]any{"frequencyType": "monthly", "frequencyInterval": 40, "retentionUnit": "months", "retentionValue": 6},
		}}},
	}
	p := e.do("PATCH", path, "2024-08-05", body)
	e.expect(p, 200, "")
	pitems := p.body["policies"].([]any)[0].(map[string]any)["policyItems"].([]any)
	if len(pitems) != 2 || pitems[0].(map[string]any)["id"] != hourly["id"] || jsonInt(pitems[0].(map[string]any)["frequencyInterval"]) != "4" ||
		jsonInt(p.body["referenceMinuteOfHour"]) != "45" || p.body["autoExportEnabled"] != true ||
		p.body["export"].(map[string]any)["exportBucketId"] != bucket || len(p.body["extraRetentionSettings"].([]any)) != 1 {
		t.Fatalf("patched: %s", p.raw)
	}
	if n := p.str("nextSnapshot"); !strings.HasSuffix(n, ":45:00Z") {
		t.Fatalf("nextSnapshot %s not at the reference minute", n)
	}
	// The same through 2023-01-01, which has no autoCopySettingsEnabled.
	e.expect(e.do("PATCH", path, "2023-01-01", map[string]any{"autoCopySettingsEnabled": true}), 400, "INVALID_ATTRIBUTE")
	e.expect(e.do("PATCH", path, "2023-01-01", map[string]any{"restoreWindowDays": 5}), 200, "")

	// Validation names the field.
	bad := []struct {
		body  map[string]any
		code  string
		field string
	}{
		{map[string]any{"referenceHourOfDay": 24}, "INVALID_ATTRIBUTE", "referenceHourOfDay"},
		{map[string]any{"referenceMinuteOfHour": 60}, "INVALID_ATTRIBUTE", "referenceMinuteOfHour"},
		{map[string]any{"referenceMinuteOfHour": "5"}, "INVALID_JSON_ATTRIBUTE", "referenceMinuteOfHour"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{map[string]any{"frequencyType": "hourly", "frequencyInterval": 5, "retentionUnit": "days", "retentionValue": 1}}}}}, "INVALID_ATTRIBUTE", "policies[0].policyItems[0].frequencyInterval"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{map[string]any{"frequencyType": "weekly", "frequencyInterval": 8, "retentionUnit": "days", "retentionValue": 1}}}}}, "INVALID_ATTRIBUTE", "policies[0].policyItems[0].frequencyInterval"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{map[string]any{"frequencyType": "daily", "frequencyInterval": 1, "retentionUnit": "DAYS", "retentionValue": 1}}}}}, "INVALID_ENUM_VALUE", "policies[0].policyItems[0].retentionUnit"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{map[string]any{"frequencyType": "daily", "frequencyInterval": 1, "retentionUnit": "days"}}}}}, "MISSING_ATTRIBUTE", "policies[0].policyItems[0].retentionValue"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{map[string]any{"id": "aaaaaaaaaaaaaaaaaaaaaaaa", "frequencyType": "daily", "frequencyInterval": 1, "retentionUnit": "days", "retentionValue": 1}}}}}, "INVALID_ATTRIBUTE", "policies[0].policyItems[0].id"},
		{map[string]any{"policies": []any{map[string]any{"policyItems": []any{
			map[string]any{"frequencyType": "daily", "frequencyInterval": 1, "retentionUnit": "weeks", "retentionValue": 2},
			map[string]any{"frequencyType": "weekly", "frequencyInterval": 1, "retentionUnit": "days", "retentionValue": 7}}}}}, "INVALID_ATTRIBUTE", "policies[0].policyItems[1].retentionValue"},
		{map[string]any{"export": map[string]any{"exportBucketId": bucket, "frequencyType": "hourly"}}, "INVALID_ENUM_VALUE", "export.frequencyType"},
		{map[string]any{"copySettings": map[string]any{}}, "INVALID_JSON_ATTRIBUTE", "copySettings"},
		{map[string]any{"extraRetentionSettings": []any{map[string]any{"frequencyType": "monthly"}}}, "INVALID_ENUM_VALUE", "extraRetentionSettings[0].frequencyType"},
		{map[string]any{"bogus": 1}, "INVALID_ATTRIBUTE", "bogus"},
	}
	for _, b := range bad {
		r := e.do("PATCH", path, "2024-08-05", b.body)
		e.expect(r, 400, b.code)
		if params, _ := r.body["parameters"].([]any); len(params) == 0 || params[0] != b.field {
			t.Errorf("%v: parameters %v, want %s first", b.body, r.body["parameters"], b.field)
		}
	}
	e.expect(e.do("PATCH", path, "2024-08-05", map[string]any{"export": map[string]any{"exportBucketId": "dddddddddddddddddddddddd", "frequencyType": "monthly"}}), 404, "EXPORT_BUCKET_NOT_FOUND")

	// Roles: read-only may read, not change.
	e.expect(e.doAs(readKey, readPriv, "GET", path, "2024-08-05", nil), 200, "")
	ro := e.doAs(readKey, readPriv, "PATCH", path, "2024-08-05", map[string]any{"restoreWindowDays": 3})
	if ro.status < 400 {
		t.Fatalf("read-only PATCH answered %d", ro.status)
	}
	ro = e.doAs(readKey, readPriv, "DELETE", path, "2024-08-05", nil)
	if ro.status < 400 {
		t.Fatalf("read-only DELETE answered %d", ro.status)
	}

	// The bucket is in use by the schedule until auto export is off.
	del := e.do("DELETE", groupPath(groupP1)+"/backup/exportBuckets/"+bucket, "2023-01-01", nil)
	e.expect(del, 400, "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE")
	if !strings.Contains(del.str("detail"), "Cluster0") {
		t.Fatalf("detail does not name the cluster: %s", del.raw)
	}

	// DELETE removes every policy item; the export policy stays.
	d := e.do("DELETE", path, "2024-08-05", nil)
	e.expect(d, 200, "")
	if n := len(d.body["policies"].([]any)[0].(map[string]any)["policyItems"].([]any)); n != 0 || d.body["nextSnapshot"] != nil {
		t.Fatalf("after DELETE: %s", d.raw)
	}
	e.expect(e.do("PATCH", path, "2024-08-05", map[string]any{"autoExportEnabled": false}), 200, "")
	e.expect(e.do("DELETE", groupPath(groupP1)+"/backup/exportBuckets/"+bucket, "2023-01-01", nil), 204, "")
	e.expect(e.do("GET", groupPath(groupP1)+"/clusters/Nope/backup/schedule", "2024-08-05", nil), 404, "CLUSTER_NOT_FOUND")
}

func jsonInt(v any) string {
	f, _ := v.(float64)
	return strconv.FormatFloat(f, 'f', -1, 64)
}
