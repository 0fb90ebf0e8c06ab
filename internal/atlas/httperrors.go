package atlas

import (
	"fmt"
	"net/http"
)

// Error codes snapex adds for HTTP's own rules and its export-cancel
// extension. Atlas documents none of them; the names follow its style.

// ErrUnsupportedMediaType is returned for a request body whose
// Content-Type is neither application/json nor an Atlas vendor JSON type.
func ErrUnsupportedMediaType(contentType string) *Error {
	return NewError(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
		fmt.Sprintf("The request body has Content-Type %q; send application/json or application/vnd.atlas.<version>+json.", contentType),
		contentType)
}

// ErrMethodNotAllowed is returned for a known path and a method it does
// not serve; the response also carries Allow.
func ErrMethodNotAllowed(method, path string) *Error {
	return NewError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		"Method "+method+" is not allowed on "+path+".", method)
}

// ErrExportJobFinished is returned when cancelling an export job that has
// already ended.
func ErrExportJobFinished(id, state string) *Error {
	return NewError(http.StatusConflict, "EXPORT_JOB_ALREADY_FINISHED",
		fmt.Sprintf("Export job %s has already finished with state %s; only Queued or InProgress jobs can be cancelled.", id, state),
		id, state)
}
