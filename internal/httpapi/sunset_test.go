package httpapi_test

import (
	"testing"
	"time"

	"github.com/snapex/snapex/internal/httpapi"
)

// TestVersionSunsets checks every sunset in the version table on both
// sides of its date with an injected clock: the last moment before it the
// version is served (with Deprecation and Sunset headers), from the date
// on it is 410 VERSION_GONE, and the successor is unaffected.
func TestVersionSunsets(t *testing.T) {
	var now time.Time
	e := newEnvWith(t, "sqlite", func(s *httpapi.Server) { s.Now = func() time.Time { return now } })
	e.newAWSBucket("sunset-bucket")
	cases := []struct {
		name, path, version string
		resolved            string // the version a later date resolves to ("" for version itself)
		successor           string
		gone                time.Time
		sunsetHeader        string
	}{
		{"export buckets 2023-01-01", groupPath(groupP1) + bucketsPath, "2023-01-01", "", "2024-05-30",
			time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), "Thu, 1 Jul 2027 00:00:00 GMT"},
		{"clusters 2023-02-01", groupPath(groupP1) + "/clusters/Cluster0", "2023-02-01", "", "2024-08-05",
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "Mon, 2 Mar 2026 00:00:00 GMT"},
		{"clusters 2023-01-01", groupPath(groupP1) + "/clusters", "2023-01-01", "", "2024-10-23",
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "Mon, 2 Mar 2026 00:00:00 GMT"},
		{"backup schedule 2023-01-01", groupPath(groupP1) + "/clusters/Cluster0/backup/schedule", "2023-01-01", "", "2024-08-05",
			time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), "Thu, 1 Jul 2027 00:00:00 GMT"},
		// A later date that resolves to the sunset version is gone too.
		{"clusters 2024-01-01 → 2023-02-01", groupPath(groupP1) + "/clusters", "2024-01-01", "2023-02-01", "2024-10-23",
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), "Mon, 2 Mar 2026 00:00:00 GMT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now = c.gone.Add(-time.Second)
			r := e.do("GET", c.path, c.version, nil)
			e.expect(r, 200, "")
			if r.header.Get("Sunset") != c.sunsetHeader || r.header.Get("Deprecation") == "" {
				t.Fatalf("before sunset: Sunset %q Deprecation %q", r.header.Get("Sunset"), r.header.Get("Deprecation"))
			}
			now = c.gone
			r = e.do("GET", c.path, c.version, nil)
			e.expect(r, 410, "VERSION_GONE")
			// Atlas's wording: the resolved version and the path without its
			// leading slash, in the detail and as the parameters.
			resource := c.path[1:]
			resolved := c.resolved
			if resolved == "" {
				resolved = c.version
			}
			want := "Version " + resolved + " of " + resource + " is no longer available."
			if p, _ := r.body["parameters"].([]any); r.str("detail") != want || len(p) != 2 || p[0] != resolved || p[1] != resource {
				t.Fatalf("VERSION_GONE body: %s\nwant detail %q", r.raw, want)
			}
			now = c.gone.AddDate(1, 0, 0)
			e.expect(e.do("GET", c.path, c.successor, nil), 200, "")
		})
	}
	// v1.0 has no versions and so no sunset.
	now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := e.doV1(ownerKey, ownerPriv, "GET", v1Path(groupP1)+"/clusters/Cluster0", nil)
	e.expect(r, 200, "")
}
