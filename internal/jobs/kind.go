// Package jobs runs leased jobs of every kind (exports, snapshots, and
// any later kind) the same way: acquire the job's lease in the store,
// renew it while working, count each attempt in the store, wait the
// backoff between failed attempts while still holding the lease, fence
// every update by the lease, and release it at the end. A kind supplies
// only its table mapping (store.JobKind) and its work (Kind).
package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/snapex/snapex/internal/store"
)

// ErrLeaseHeld is returned when another live worker holds the job, or the
// job waits for a retry another worker scheduled; it is not a failure.
var ErrLeaseHeld = errors.New("jobs: job is leased by another worker")

// ErrCancelRequested ends an attempt whose job was asked to cancel; the
// runner then records the cancellation through Kind.Cancel.
var ErrCancelRequested = errors.New("jobs: cancellation requested")

// Clock tells the current time. A process injects one clock into its
// runner, and every time the runner or a kind's work records comes from it.
type Clock func() time.Time

// Attempt is one attempt at a job, made under the runner's lease.
type Attempt struct {
	// ID is the job's id.
	ID string
	// Owner holds the lease; every update of the job must be fenced by it.
	Owner string
	// Number counts attempts of the job from 1, whoever made them.
	Number int
	// Final is true when a failure of this attempt ends the job.
	Final bool
	// Now is the runner's clock.
	Now Clock
}

// Kind is what one job kind implements: its work. The runner does the rest.
type Kind struct {
	// Table maps the kind onto its store table.
	Table store.JobKind
	// Work makes one attempt. It returns nil once it recorded the job's
	// terminal state (fenced by a.Owner), ErrCancelRequested (or any error
	// after ctx was cancelled with that cause) to stop for a cancellation,
	// or the attempt's failure.
	Work func(ctx context.Context, a *Attempt) error
	// Retryable reports whether a failed attempt may succeed later; nil
	// means no failure is retried.
	Retryable func(err error) bool
	// Fail records the job's terminal failure after err ended its last
	// attempt (or a failure that is not retried).
	Fail func(ctx context.Context, a *Attempt, err error) error
	// Cancel records a requested cancellation; nil for kinds that cannot
	// be cancelled.
	Cancel func(ctx context.Context, a *Attempt) error
	// Code classifies a failed attempt's error for metrics (an Atlas
	// errorCode); nil leaves failures unclassified.
	Code func(err error) string
}
