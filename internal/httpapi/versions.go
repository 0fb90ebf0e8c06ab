package httpapi

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// apiVersion is one dated representation of an operation.
type apiVersion struct {
	date string // YYYY-MM-DD
	// deprecated and sunset are set on versions Atlas has deprecated.
	deprecated time.Time
	sunset     time.Time
	// legacy marks the unversioned /api/atlas/v1.0 representation: no
	// negotiation, plain application/json, the v1.0 field names.
	legacy bool
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Version tables per resource family, oldest first (behaviour notes §4).
var (
	v20230101 = apiVersion{date: "2023-01-01"}
	// Export buckets 2023-01-01 is deprecated in favour of 2024-05-30 and
	// sunsets 2027-07-01 (the spec's x-sunset).
	bucketsV20230101 = apiVersion{date: "2023-01-01", deprecated: day("2024-05-30"), sunset: day("2027-07-01")}
	v20240530        = apiVersion{date: "2024-05-30"}
	// Clusters 2023-02-01 answers 410 from 2026-03-02 on real Atlas
	// (mongodb/mongodb-atlas-cli#4472); its successor is 2024-08-05.
	// 2023-01-01, which 2023-02-01 superseded, went the same day: Atlas
	// retires the older version no later than its successor, and 2023-01-01
	// resources of the same family (processArgs) answered 410 that day too
	// (terraform-provider-mongodbatlas#4251).
	clustersV20230201 = apiVersion{date: "2023-02-01", deprecated: day("2024-08-05"), sunset: day("2026-03-02")}
	clustersV20230101 = apiVersion{date: "2023-01-01", deprecated: day("2023-02-01"), sunset: day("2026-03-02")}
	// Backup schedule 2023-01-01 (DiskBackupSnapshotSchedule) is deprecated
	// in favour of 2024-08-05 (DiskBackupSnapshotSchedule20240805, which adds
	// autoCopySettingsEnabled) and sunsets 2027-07-01 (the spec's x-sunset).
	scheduleV20230101 = apiVersion{date: "2023-01-01", deprecated: day("2024-08-05"), sunset: day("2027-07-01")}
	scheduleV20240805 = apiVersion{date: "2024-08-05"}

	bucketReadVersions   = []apiVersion{bucketsV20230101, v20240530}
	bucketDeleteVersions = []apiVersion{v20230101}
	bucketPatchVersions  = []apiVersion{v20240530}
	backupVersions       = []apiVersion{v20230101}
	clusterVersions      = []apiVersion{clustersV20230101, clustersV20230201, {date: "2024-08-05"}, {date: "2024-10-23"}}
	scheduleVersions     = []apiVersion{scheduleV20230101, scheduleV20240805}
)

var vendorMediaType = regexp.MustCompile(`^application/vnd\.atlas\.(\d{4}-\d{2}-\d{2})\+json$`)

// negotiate picks the version served for the request's Accept header: the
// exact date when listed, else the newest version dated before the
// requested date; an older, missing or malformed date is 406, a sunset
// version 410.
func negotiate(r *http.Request, versions []apiVersion, now time.Time) (apiVersion, *atlas.Error) {
	if len(versions) == 1 && versions[0].legacy {
		return versions[0], nil
	}
	var requested time.Time
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		m := vendorMediaType.FindStringSubmatch(strings.ToLower(mt))
		if m == nil {
			continue
		}
		t, err := time.Parse("2006-01-02", m[1])
		if err != nil {
			continue
		}
		if t.After(requested) {
			requested = t
		}
	}
	if requested.IsZero() {
		return apiVersion{}, atlas.ErrInvalidVersionDate()
	}
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if day(v.date).After(requested) {
			continue
		}
		if !v.sunset.IsZero() && !now.Before(v.sunset) {
			return apiVersion{}, atlas.ErrVersionGone(v.date, strings.TrimPrefix(r.URL.Path, "/"))
		}
		return v, nil
	}
	return apiVersion{}, atlas.ErrInvalidVersionDate()
}

// contentType is the vendor media type echoed on successful responses.
func (v apiVersion) contentType() string {
	if v.legacy {
		return "application/json"
	}
	return "application/vnd.atlas." + v.date + "+json;charset=utf-8"
}

// setHeaders writes Content-Type and, for deprecated versions, the
// Deprecation and Sunset headers in HTTP-date form.
func (v apiVersion) setHeaders(h http.Header) {
	h.Set("Content-Type", v.contentType())
	if !v.deprecated.IsZero() {
		h.Set("Deprecation", httpDate(v.deprecated))
		h.Set("Sunset", httpDate(v.sunset))
	}
}

// httpDate formats like the Atlas docs' example (day not zero-padded).
func httpDate(t time.Time) string { return t.UTC().Format("Mon, 2 Jan 2006 15:04:05 GMT") }
