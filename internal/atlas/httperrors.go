package atlas

import "fmt"

// Errors snapex adds for HTTP's own rules and its export-cancel extension.
// Atlas documents none of them; the names follow its style.

// ErrUnsupportedMediaType is returned for a request body whose
// Content-Type is neither application/json nor an Atlas vendor JSON type.
func ErrUnsupportedMediaType(contentType string) *Error {
	return New(CodeUnsupportedMediaType,
		fmt.Sprintf("The request body has Content-Type %q; send application/json or application/vnd.atlas.<version>+json.", contentType),
		contentType)
}

// ErrExportJobFinished is returned when cancelling an export job that has
// already ended.
func ErrExportJobFinished(id, state string) *Error {
	return New(CodeExportJobAlreadyFinished,
		fmt.Sprintf("Export job %s has already finished with state %s; only Queued or InProgress jobs can be cancelled.", id, state),
		id, state)
}
