package atlas

import (
	"fmt"
	"net/http"
)

// Error is a coded error rendered as an Atlas ApiError body.
type Error struct {
	Status int      // HTTP status
	Code   string   // Atlas errorCode, e.g. GROUP_NOT_FOUND
	Detail string   // human-readable detail naming the field and value
	Params []string // values substituted into Detail, as Atlas's "parameters"
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Detail) }

// NewError builds an *Error with a formatted detail; params are recorded as
// the ApiError "parameters".
func NewError(status int, code, detail string, params ...string) *Error {
	return &Error{Status: status, Code: code, Detail: detail, Params: params}
}

// ErrGroupNotFound is returned for an unknown project id.
func ErrGroupNotFound(groupID string) *Error {
	return NewError(http.StatusNotFound, "GROUP_NOT_FOUND",
		fmt.Sprintf("No group with ID %s exists.", groupID), groupID)
}

// ErrInvalidGroupID is returned for a malformed project id.
func ErrInvalidGroupID(groupID string) *Error {
	return NewError(http.StatusNotFound, "INVALID_GROUP_ID",
		fmt.Sprintf("The specified group ID %s is invalid.", groupID), groupID)
}

// ErrClusterNotFound is returned for an unknown cluster name.
func ErrClusterNotFound(name, groupID string) *Error {
	return NewError(http.StatusNotFound, "CLUSTER_NOT_FOUND",
		fmt.Sprintf("No cluster named %s exists in group %s.", name, groupID), name, groupID)
}

// ErrSnapshotNotFound is returned for an unknown snapshot id.
func ErrSnapshotNotFound(id, cluster string) *Error {
	return NewError(http.StatusNotFound, "SNAPSHOT_NOT_FOUND",
		fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", id, cluster), id, cluster)
}

// ErrInvalidSnapshotID is returned for a malformed snapshot id.
func ErrInvalidSnapshotID(id string) *Error {
	return NewError(http.StatusNotFound, "INVALID_SNAPSHOT_ID",
		fmt.Sprintf("The specified snapshot ID %s is invalid.", id), id)
}

// ErrExportBucketNotFound is returned for an unknown export bucket id.
func ErrExportBucketNotFound(id string) *Error {
	return NewError(http.StatusNotFound, "EXPORT_BUCKET_NOT_FOUND",
		fmt.Sprintf("No export bucket with ID %s exists.", id), id)
}

// ErrExportJobNotFound is returned for an unknown export job id. Atlas
// documents no dedicated code; RESOURCE_NOT_FOUND is its generic one.
func ErrExportJobNotFound(id string) *Error {
	what := "Export job with id " + id
	return NewError(http.StatusNotFound, "RESOURCE_NOT_FOUND",
		fmt.Sprintf("Cannot find resource %s.", what), what)
}

// ErrInvalidPathParameter is returned for a malformed path parameter.
func ErrInvalidPathParameter(name, value string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_PATH_PARAMETER",
		fmt.Sprintf("The path parameter %s has an invalid value %q.", name, value), name, value)
}

// ErrMissingAttribute is returned when a required body field is absent.
func ErrMissingAttribute(field string) *Error {
	return NewError(http.StatusBadRequest, "MISSING_ATTRIBUTE",
		fmt.Sprintf("The required attribute %s was not specified.", field), field)
}

// ErrInvalidAttribute is returned when a body field has an unacceptable value;
// why says what is expected.
func ErrInvalidAttribute(field, value, why string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_ATTRIBUTE",
		fmt.Sprintf("Invalid attribute %s specified with value %q: %s", field, value, why), field, value)
}

// ErrInvalidJSONAttribute is returned when a body field has the wrong JSON type.
func ErrInvalidJSONAttribute(field, want string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_JSON_ATTRIBUTE",
		fmt.Sprintf("Received JSON for the %s attribute does not match expected format: expected %s.", field, want), field)
}

// ErrInvalidJSON is returned when the body is not valid JSON.
func ErrInvalidJSON(why string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_JSON",
		"Received JSON is malformed: "+why, why)
}

// ErrInvalidProvider is returned for an unknown cloud provider.
func ErrInvalidProvider(p string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_PROVIDER",
		fmt.Sprintf("No provider %s exists.", p), p)
}

// ErrInvalidQueryParameter is returned for a malformed query parameter.
func ErrInvalidQueryParameter(name, value, why string) *Error {
	return NewError(http.StatusBadRequest, "INVALID_QUERY_PARAMETER",
		fmt.Sprintf("Invalid query parameter %s with value %q: %s", name, value, why), name, value)
}

// ErrInvalidVersionDate is returned when the Accept header names no
// version this operation serves.
func ErrInvalidVersionDate() *Error {
	return NewError(http.StatusNotAcceptable, "INVALID_VERSION_DATE", "Invalid accept header or version date.")
}

// ErrUnexpected is the catch-all for failures that are snapex's fault.
func ErrUnexpected() *Error {
	return NewError(http.StatusInternalServerError, "UNEXPECTED_ERROR", "Unexpected error.")
}
