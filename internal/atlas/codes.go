package atlas

import "net/http"

// Code is an Atlas errorCode, spelled as it appears in an ApiError body
// and in a failed export job's stateReason.
type Code string

// Codes snapex answers with. Each one has its HTTP status in statusOf.
const (
	CodeGroupNotFound                        Code = "GROUP_NOT_FOUND"
	CodeInvalidGroupID                       Code = "INVALID_GROUP_ID"
	CodeClusterNotFound                      Code = "CLUSTER_NOT_FOUND"
	CodeSnapshotNotFound                     Code = "SNAPSHOT_NOT_FOUND"
	CodeInvalidSnapshotID                    Code = "INVALID_SNAPSHOT_ID"
	CodeExportBucketNotFound                 Code = "EXPORT_BUCKET_NOT_FOUND"
	CodeExportBucketNameInvalid              Code = "EXPORT_BUCKET_NAME_INVALID"
	CodeExportBucketAccessDenied             Code = "EXPORT_BUCKET_ACCESS_DENIED"
	CodeExportBucketDeleteFailedBucketInUse  Code = "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE"
	CodeExportAlreadyInProgress              Code = "EXPORT_ALREADY_IN_PROGRESS"
	CodeResourceNotFound                     Code = "RESOURCE_NOT_FOUND"
	CodeMethodNotAllowed                     Code = "METHOD_NOT_ALLOWED"
	CodeInvalidPathParameter                 Code = "INVALID_PATH_PARAMETER"
	CodeInvalidQueryParameter                Code = "INVALID_QUERY_PARAMETER"
	CodeMissingAttribute                     Code = "MISSING_ATTRIBUTE"
	CodeInvalidAttribute                     Code = "INVALID_ATTRIBUTE"
	CodeInvalidJSONAttribute                 Code = "INVALID_JSON_ATTRIBUTE"
	CodeInvalidJSON                          Code = "INVALID_JSON"
	CodeInvalidEnumValue                     Code = "INVALID_ENUM_VALUE"
	CodeInvalidProvider                      Code = "INVALID_PROVIDER"
	CodeRequestTooLarge                      Code = "REQUEST_TOO_LARGE"
	CodeUnfinishedOnDemandSnapshot           Code = "UNFINISHED_ON_DEMAND_SNAPSHOT"
	CodeCannotDeleteInProgressSnapshot       Code = "CANNOT_DELETE_IN_PROGRESS_SNAPSHOT"
	CodeCannotModifyInProgressSnapshotRetain Code = "CANNOT_MODIFY_IN_PROGRESS_SNAPSHOT_RETENTION"
	CodeSnapshotRetentionValueInvalid        Code = "BACKUP_SNAPSHOT_RETENTION_VALUE_INVALID"
	CodeInvalidVersionDate                   Code = "INVALID_VERSION_DATE"
	CodeVersionGone                          Code = "VERSION_GONE"
	CodeUserUnauthorized                     Code = "USER_UNAUTHORIZED"
	CodeIPAddressNotOnAccessList             Code = "IP_ADDRESS_NOT_ON_ACCESS_LIST"
	CodeRateLimited                          Code = "RATE_LIMITED"
	CodeUnexpectedError                      Code = "UNEXPECTED_ERROR"
	// snapex's own, for HTTP's rules and the export-cancel extension.
	CodeUnsupportedMediaType     Code = "UNSUPPORTED_MEDIA_TYPE"
	CodeExportJobAlreadyFinished Code = "EXPORT_JOB_ALREADY_FINISHED"
	// snapex's own, for the restore-job extension.
	CodeRestoreJobAlreadyFinished Code = "RESTORE_JOB_ALREADY_FINISHED"
)

// Codes that only ever appear in a failed export job's stateReason; no
// request is answered with them, so they have no HTTP status.
const (
	CodeExportUploadFailed Code = "EXPORT_UPLOAD_FAILED"
	CodeSnapshotCorrupt    Code = "SNAPSHOT_CORRUPT"
	CodeExportFailed       Code = "EXPORT_FAILED"
	// A Cancelled job's stateReason says who stopped it.
	CodeExportCancelledByUser       Code = "EXPORT_CANCELLED_BY_USER"
	CodeExportCancelledSnapshotGone Code = "EXPORT_CANCELLED_SNAPSHOT_DELETED"
	// CodeRestoreFailed ends a failed restore job.
	CodeRestoreFailed Code = "RESTORE_FAILED"
)

// statusOf is THE code → HTTP status table: every *Error built through
// New takes its status from here, so one code never answers with two
// statuses by accident. The one deliberate exception, Atlas's 401
// UNEXPECTED_ERROR for bad credentials, is ErrNotAuthenticated.
var statusOf = map[Code]int{
	CodeGroupNotFound:                        http.StatusNotFound,
	CodeInvalidGroupID:                       http.StatusNotFound,
	CodeClusterNotFound:                      http.StatusNotFound,
	CodeSnapshotNotFound:                     http.StatusNotFound,
	CodeInvalidSnapshotID:                    http.StatusNotFound,
	CodeExportBucketNotFound:                 http.StatusNotFound,
	CodeExportBucketNameInvalid:              http.StatusBadRequest,
	CodeExportBucketAccessDenied:             http.StatusBadRequest,
	CodeExportBucketDeleteFailedBucketInUse:  http.StatusBadRequest,
	CodeExportAlreadyInProgress:              http.StatusConflict,
	CodeResourceNotFound:                     http.StatusNotFound,
	CodeMethodNotAllowed:                     http.StatusMethodNotAllowed,
	CodeInvalidPathParameter:                 http.StatusBadRequest,
	CodeInvalidQueryParameter:                http.StatusBadRequest,
	CodeMissingAttribute:                     http.StatusBadRequest,
	CodeInvalidAttribute:                     http.StatusBadRequest,
	CodeInvalidJSONAttribute:                 http.StatusBadRequest,
	CodeInvalidJSON:                          http.StatusBadRequest,
	CodeInvalidEnumValue:                     http.StatusBadRequest,
	CodeInvalidProvider:                      http.StatusBadRequest,
	CodeRequestTooLarge:                      http.StatusRequestEntityTooLarge,
	CodeUnfinishedOnDemandSnapshot:           http.StatusBadRequest,
	CodeCannotDeleteInProgressSnapshot:       http.StatusBadRequest,
	CodeCannotModifyInProgressSnapshotRetain: http.StatusBadRequest,
	CodeSnapshotRetentionValueInvalid:        http.StatusBadRequest,
	CodeInvalidVersionDate:                   http.StatusNotAcceptable,
	CodeVersionGone:                          http.StatusGone,
	CodeUserUnauthorized:                     http.StatusUnauthorized,
	CodeIPAddressNotOnAccessList:             http.StatusForbidden,
	CodeRateLimited:                          http.StatusTooManyRequests,
	CodeUnexpectedError:                      http.StatusInternalServerError,
	CodeUnsupportedMediaType:                 http.StatusUnsupportedMediaType,
	CodeExportJobAlreadyFinished:             http.StatusConflict,
	CodeRestoreJobAlreadyFinished:            http.StatusConflict,
}

// reasonOnly lists the codes that only a job's stateReason carries.
var reasonOnly = map[Code]bool{
	CodeExportUploadFailed:          true,
	CodeSnapshotCorrupt:             true,
	CodeExportFailed:                true,
	CodeExportCancelledByUser:       true,
	CodeExportCancelledSnapshotGone: true,
	CodeRestoreFailed:               true,
}

// Status is the HTTP status a request answered with c gets; ok is false
// for codes that only appear in a job's stateReason.
func (c Code) Status() (status int, ok bool) {
	status, ok = statusOf[c]
	return status, ok
}
