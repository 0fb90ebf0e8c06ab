package atlas

import (
	"strconv"
	"time"
)

// ExportPrefix computes the object prefix of an export job the way real Atlas
// does (behaviour notes §2.1): org and project as hex ids, the cluster name as
// is, the snapshot's creation minute in UTC, and the job's creation time in
// Unix seconds. There is no leading slash.
func ExportPrefix(orgID, groupID, clusterName string, snapshotCreated, jobCreated time.Time) string {
	return "exported_snapshots/" + orgID + "/" + groupID + "/" + clusterName + "/" +
		snapshotCreated.UTC().Format("2006-01-02T1504") + "/" +
		strconv.FormatInt(jobCreated.Unix(), 10)
}

// PermissionCheckKey is the empty object written to prove write access.
const PermissionCheckKey = "exported_snapshots/.permissioncheck"
