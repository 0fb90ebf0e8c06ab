package atlas

import (
	"fmt"
	"net/http"
	"strings"
)

// ErrBucketNameInvalid is returned for a bucket name the provider's naming
// rules refuse; why is the rule it breaks.
func ErrBucketNameInvalid(name string, p Provider, why error) *Error {
	return New(CodeExportBucketNameInvalid, fmt.Sprintf("Invalid bucket name %q for %s: %v.", name, p, why), name)
}

// ErrBucketAccessDenied is returned when snapex cannot write into a bucket
// with the access role's credentials; detail says what failed.
func ErrBucketAccessDenied(detail string, params ...string) *Error {
	return New(CodeExportBucketAccessDenied, detail, params...)
}

// ErrBucketInUse is returned when deleting a bucket an active export
// writes or an active restore job reads.
func ErrBucketInUse(id string) *Error {
	return New(CodeExportBucketDeleteFailedBucketInUse,
		fmt.Sprintf("Export bucket %s is used by a queued or running export or restore job; delete it once those jobs finish.", id), id)
}

// ErrBucketUsedBySchedules is returned when deleting a bucket the auto
// export policy of backup schedules names; clusters lists them.
func ErrBucketUsedBySchedules(id string, clusters []string) *Error {
	names := strings.Join(clusters, ", ")
	return New(CodeExportBucketDeleteFailedBucketInUse,
		fmt.Sprintf("Export bucket %s is used by the auto export policy of cluster(s) %s; disable auto export on them first.", id, names), id, names)
}

// ErrExportAlreadyInProgress is returned when a snapshot already has an
// active export job.
func ErrExportAlreadyInProgress(snapshotID string) *Error {
	return New(CodeExportAlreadyInProgress,
		fmt.Sprintf("Snapshot %s already has a queued or running export job; wait for it to finish.", snapshotID), snapshotID)
}

// ErrUnfinishedOnDemandSnapshot is returned when a cluster already has an
// on-demand snapshot queued or in progress.
func ErrUnfinishedOnDemandSnapshot(cluster string) *Error {
	return New(CodeUnfinishedOnDemandSnapshot,
		fmt.Sprintf("Cluster %s already has an on-demand snapshot that has not finished.", cluster), cluster)
}

// ErrCannotDeleteInProgressSnapshot is returned when deleting a snapshot
// that is still queued or being taken.
func ErrCannotDeleteInProgressSnapshot(id string, status SnapshotStatus) *Error {
	return New(CodeCannotDeleteInProgressSnapshot,
		fmt.Sprintf("Snapshot %s is %s; delete it once it has completed or failed.", id, status), id)
}

// ErrCannotModifyInProgressRetention is returned when changing the
// retention of a snapshot that has not completed.
func ErrCannotModifyInProgressRetention(id string, status SnapshotStatus) *Error {
	return New(CodeCannotModifyInProgressSnapshotRetain,
		fmt.Sprintf("Snapshot %s is %s; its retention can change once it has completed.", id, status), id)
}

// ErrRetentionValueInvalid is returned for a retention outside 1 day to
// 10 years.
func ErrRetentionValueInvalid(value int, unit string) *Error {
	return New(CodeSnapshotRetentionValueInvalid,
		fmt.Sprintf("retentionValue %d %s is outside 1 day to 10 years.", value, unit), fmt.Sprint(value))
}

// ErrNotAuthenticated is the 401 Atlas returns for no, unknown or wrong
// credentials, and for a project of another organization [observed]. Atlas
// uses its catch-all UNEXPECTED_ERROR here with 401 rather than the
// table's 500: the one status override, kept here so no caller writes one.
func ErrNotAuthenticated() *Error {
	e := New(CodeUnexpectedError, "You are not authorized for this resource.")
	e.Status = http.StatusUnauthorized
	return e
}

// ErrUserUnauthorized is the 401 for a known caller whose roles do not
// allow the operation (DOC-ERR; seen in real Atlas responses with empty
// parameters).
func ErrUserUnauthorized() *Error {
	return New(CodeUserUnauthorized, "Current user is not authorized to perform this action.", []string{}...)
}

// ErrNotOnAccessList is the 403 for a client address outside the
// credential's access list.
func ErrNotOnAccessList(ip string) *Error {
	return New(CodeIPAddressNotOnAccessList, fmt.Sprintf("IP address %s is not allowed to access this resource.", ip), ip)
}
