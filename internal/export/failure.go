package export

import (
	"errors"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/snapshot"
)

// jobError is a failure whose stateReason code is known.
type jobError struct {
	code atlas.Code
	err  error
}

func (e *jobError) Error() string { return e.err.Error() }
func (e *jobError) Unwrap() error { return e.err }

func failWith(code atlas.Code, format string, args ...any) error {
	return &jobError{code: code, err: fmt.Errorf(format, args...)}
}

// reason is what a failed attempt means for the job.
type reason struct {
	code    string // an atlas.Code, as StateReason carries it
	message string
	retry   bool
}

// failureReason classifies an export error: object-store errors by kind
// (missing bucket or denied credentials are permanent, throttling and
// network trouble are retried), snapshot corruption is permanent, and
// anything else (database hiccups) is retried.
func failureReason(err error) reason {
	msg := err.Error()
	var je *jobError
	if errors.As(err, &je) {
		return reason{code: string(je.code), message: msg}
	}
	var be *blob.Error
	if errors.As(err, &be) {
		switch blob.KindOf(err) {
		case blob.KindNotFound:
			return reason{code: string(atlas.CodeExportBucketNotFound), message: msg}
		case blob.KindPermissionDenied:
			return reason{code: string(atlas.CodeExportBucketAccessDenied), message: msg}
		case blob.KindTransient:
			return reason{code: string(atlas.CodeExportUploadFailed), message: msg, retry: true}
		}
		return reason{code: string(atlas.CodeExportUploadFailed), message: msg}
	}
	if errors.Is(err, snapshot.ErrCorrupt) || errors.Is(err, snapshot.ErrIncomplete) {
		return reason{code: string(atlas.CodeSnapshotCorrupt), message: msg}
	}
	return reason{code: string(atlas.CodeExportFailed), message: msg, retry: true}
}
