package export

import (
	"errors"
	"fmt"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/snapshot"
)

// jobError is a failure whose stateReason code is known.
type jobError struct {
	code string
	err  error
}

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

func failWith(code string, format string, args ...any) error {
	return &jobError{code: code, err: fmt.Errorf(format, args...)}
}

// reason is what a failed attempt means for the job.
type reason struct {
	code, message string
	retry         bool
}

// failureReason classifies an export error: object-store errors by kind
// (missing bucket or denied credentials are permanent, throttling and
// network trouble are retried), snapshot corruption is permanent, and
// anything else (database hiccups) is retried.
func failureReason(err error) reason {
	msg := err.Error()
	var je *jobError
	if errors.As(err, &je) {
		return reason{code: je.code, message: msg}
	}
	var be *blob.Error
	if errors.As(err, &be) {
		switch blob.KindOf(err) {
		case blob.KindNotFound:
			return reason{code: "EXPORT_BUCKET_NOT_FOUND", message: msg}
		case blob.KindPermissionDenied:
			return reason{code: "EXPORT_BUCKET_ACCESS_DENIED", message: msg}
		case blob.KindTransient:
			return reason{code: "EXPORT_UPLOAD_FAILED", message: msg, retry: true}
		}
		return reason{code: "EXPORT_UPLOAD_FAILED", message: msg}
	}
	if errors.Is(err, snapshot.ErrCorrupt) || errors.Is(err, snapshot.ErrIncomplete) {
		return reason{code: "SNAPSHOT_CORRUPT", message: msg}
	}
	return reason{code: "EXPORT_FAILED", message: msg, retry: true}
}
