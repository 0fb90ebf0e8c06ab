package atlas

import "fmt"

// Errors of snapex's restore-job extension.

// ErrRestoreJobNotFound is returned for an unknown restore job id.
func ErrRestoreJobNotFound(id string) *Error {
	return ErrResourceNotFound("Restore job with id " + id)
}

// ErrRestoreJobFinished is returned when cancelling a restore job that
// has already ended.
func ErrRestoreJobFinished(id, state string) *Error {
	return New(CodeRestoreJobAlreadyFinished,
		fmt.Sprintf("Restore job %s has already finished with state %s; only Queued or InProgress jobs can be cancelled.", id, state),
		id, state)
}
