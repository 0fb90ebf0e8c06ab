package atlas

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a coded error rendered as an Atlas ApiError body. Build it with
// New or one of the Err* constructors, which take the status from the code
// table; the fields are exported for reading.
type Error struct {
	Status int      // HTTP status, from statusOf[Code]
	Code   Code     // Atlas errorCode, e.g. GROUP_NOT_FOUND
	Detail string   // human-readable detail naming the field and value
	Params []string // values substituted into Detail, as Atlas's "parameters"
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Detail) }

// New builds an *Error whose status comes from the code table; params are
// recorded as the ApiError "parameters". A code without a status (one only
// a job's stateReason carries) is a programming error and answers 500, so
// it never reaches a client as a success or a misleading 4xx.
func New(code Code, detail string, params ...string) *Error {
	status, ok := code.Status()
	if !ok {
		status = http.StatusInternalServerError
	}
	return &Error{Status: status, Code: code, Detail: detail, Params: params}
}

// HasCode reports whether err is an *Error with the given code.
func HasCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrGroupNotFound is returned for an unknown project id.
func ErrGroupNotFound(groupID string) *Error {
	return New(CodeGroupNotFound, fmt.Sprintf("No group with ID %s exists.", groupID), groupID)
}

// ErrInvalidGroupID is returned for a malformed project id.
func ErrInvalidGroupID(groupID string) *Error {
	return New(CodeInvalidGroupID, fmt.Sprintf("The specified group ID %s is invalid.", groupID), groupID)
}

// ErrClusterNotFound is returned for an unknown cluster name.
func ErrClusterNotFound(name, groupID string) *Error {
	return New(CodeClusterNotFound, fmt.Sprintf("No cluster named %s exists in group %s.", name, groupID), name, groupID)
}

// ErrSnapshotNotFound is returned for an unknown snapshot id.
func ErrSnapshotNotFound(id, cluster string) *Error {
	return New(CodeSnapshotNotFound, fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", id, cluster), id, cluster)
}

// ErrInvalidSnapshotID is returned for a malformed snapshot id.
func ErrInvalidSnapshotID(id string) *Error {
	return New(CodeInvalidSnapshotID, fmt.Sprintf("The specified snapshot ID %s is invalid.", id), id)
}

// ErrExportBucketNotFound is returned for an unknown export bucket id.
func ErrExportBucketNotFound(id string) *Error {
	return New(CodeExportBucketNotFound, fmt.Sprintf("No export bucket with ID %s exists.", id), id)
}

// ErrExportJobNotFound is returned for an unknown export job id. Atlas
// documents no dedicated code; RESOURCE_NOT_FOUND is its generic one.
func ErrExportJobNotFound(id string) *Error {
	return ErrResourceNotFound("Export job with id " + id)
}

// ErrResourceNotFound is returned for an unknown resource, named by what
// (a path, or a description such as "Export job with id …").
func ErrResourceNotFound(what string) *Error {
	return New(CodeResourceNotFound, fmt.Sprintf("Cannot find resource %s.", what), what)
}

// ErrMethodNotAllowed is returned for a known path with a method it does
// not serve.
func ErrMethodNotAllowed(method, path string) *Error {
	return New(CodeMethodNotAllowed, "Method "+method+" is not allowed on "+path+".", method)
}

// ErrInvalidPathParameter is returned for a malformed path parameter.
func ErrInvalidPathParameter(name, value string) *Error {
	return New(CodeInvalidPathParameter, fmt.Sprintf("The path parameter %s has an invalid value %q.", name, value), name, value)
}

// ErrMissingAttribute is returned when a required body field is absent.
func ErrMissingAttribute(field string) *Error {
	return New(CodeMissingAttribute, fmt.Sprintf("The required attribute %s was not specified.", field), field)
}

// ErrInvalidAttribute is returned when a body field has an unacceptable value;
// why says what is expected.
func ErrInvalidAttribute(field, value, why string) *Error {
	return New(CodeInvalidAttribute, fmt.Sprintf("Invalid attribute %s specified with value %q: %s", field, value, why), field, value)
}

// ErrUnknownAttribute is returned for a body field the operation does not
// accept.
func ErrUnknownAttribute(field string) *Error {
	return New(CodeInvalidAttribute, fmt.Sprintf("Invalid attribute %s specified.", field), field)
}

// ErrInvalidJSONAttribute is returned when a body field has the wrong JSON type.
func ErrInvalidJSONAttribute(field, want string) *Error {
	return New(CodeInvalidJSONAttribute,
		fmt.Sprintf("Received JSON for the %s attribute does not match expected format: expected %s.", field, want), field)
}

// ErrInvalidJSON is returned when the body is not valid JSON.
func ErrInvalidJSON(why string) *Error {
	return New(CodeInvalidJSON, "Received JSON is malformed: "+why, why)
}

// ErrRequestTooLarge is returned for a body over limit bytes.
func ErrRequestTooLarge(limit int) *Error {
	return New(CodeRequestTooLarge, fmt.Sprintf("The request body exceeds the limit of %d bytes.", limit))
}

// ErrInvalidEnumValue is returned when field holds value outside its
// enumeration; expected lists the allowed values in prose.
func ErrInvalidEnumValue(field, value, expected string) *Error {
	return New(CodeInvalidEnumValue, fmt.Sprintf("Invalid %s %q; expected %s.", field, value, expected), field, value)
}

// ErrInvalidProvider is returned for an unknown cloud provider.
func ErrInvalidProvider(p string) *Error {
	return New(CodeInvalidProvider, fmt.Sprintf("No provider %s exists.", p), p)
}

// ErrInvalidQueryParameter is returned for a malformed query parameter.
func ErrInvalidQueryParameter(name, value, why string) *Error {
	return New(CodeInvalidQueryParameter, fmt.Sprintf("Invalid query parameter %s with value %q: %s", name, value, why), name, value)
}

// ErrInvalidVersionDate is returned when the Accept header names no
// version this operation serves.
func ErrInvalidVersionDate() *Error {
	return New(CodeInvalidVersionDate, "Invalid accept header or version date.")
}

// ErrVersionCannotRepresent is returned when the negotiated version cannot
// represent a resource (an export bucket of a provider the version
// predates); the detail says which version to request.
func ErrVersionCannotRepresent(detail, resourceID string) *Error {
	return New(CodeInvalidVersionDate, detail, resourceID)
}

// ErrVersionGone is returned for a version Atlas has sunset; resource is
// the request path without its leading slash, as Atlas names it.
func ErrVersionGone(version, resource string) *Error {
	return New(CodeVersionGone, fmt.Sprintf("Version %s of %s is no longer available.", version, resource), version, resource)
}

// ErrRateLimited is returned when a caller exceeded perMinute requests;
// it may retry after retryAfter seconds.
func ErrRateLimited(perMinute, retryAfter int) *Error {
	return New(CodeRateLimited, fmt.Sprintf("You have exceeded the limit of %d requests per minute; retry after %d seconds.", perMinute, retryAfter))
}

// ErrUnexpected is the catch-all for failures that are snapex's fault.
func ErrUnexpected() *Error {
	return New(CodeUnexpectedError, "Unexpected error.")
}
