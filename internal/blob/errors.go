package blob

import (
	"context"
	"errors"
	"strings"
)

// Kind is the coarse class of a blob error, the part callers branch on.
type Kind int

// The kinds of blob errors.
const (
	// KindOther is any error that fits no other kind.
	KindOther Kind = iota
	// KindNotFound means the object, or the bucket itself, does not exist.
	KindNotFound
	// KindPermissionDenied means the credentials were rejected or lack a
	// permission the operation needs.
	KindPermissionDenied
	// KindTransient means the store was unavailable, throttled or timed
	// out even after the driver's own retries; trying later may succeed.
	KindTransient
	// KindInvalid means the request was refused before reaching the
	// store: an invalid key or prefix, bad options, a closed writer.
	KindInvalid
)

// Sentinel errors, one per kind, for use with errors.Is: an [*Error] of
// kind KindNotFound matches ErrNotFound, and so on.
var (
	ErrNotFound         = errors.New("not found")
	ErrPermissionDenied = errors.New("permission denied")
	ErrTransient        = errors.New("transient failure")
	ErrInvalid          = errors.New("invalid request")
)

// String returns the kind's name as used in error messages.
func (k Kind) String() string {
	switch k {
	case KindNotFound:
		return "not found"
	case KindPermissionDenied:
		return "permission denied"
	case KindTransient:
		return "transient failure"
	case KindInvalid:
		return "invalid request"
	default:
		return "error"
	}
}

func (k Kind) sentinel() error {
	switch k {
	case KindNotFound:
		return ErrNotFound
	case KindPermissionDenied:
		return ErrPermissionDenied
	case KindTransient:
		return ErrTransient
	case KindInvalid:
		return ErrInvalid
	default:
		return nil
	}
}

// Error is the error every [Bucket] method returns. It unwraps to the
// driver's or SDK's own error, so errors.As still reaches SDK types.
type Error struct {
	// Kind classifies the failure.
	Kind Kind
	// Op is the operation: "write", "read", "stat", "list", "delete",
	// "abort" or "open".
	Op string
	// Bucket names the bucket, e.g. "s3://name".
	Bucket string
	// Key is the object key, or the prefix for "list".
	Key string
	// Err is the underlying error, carrying what the store said.
	Err error
}

// Error formats the error as "blob: OP BUCKET/KEY: KIND: CAUSE".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("blob: ")
	b.WriteString(e.Op)
	if e.Bucket != "" || e.Key != "" {
		b.WriteByte(' ')
		b.WriteString(e.Bucket)
		if e.Key != "" {
			if e.Bucket != "" {
				b.WriteByte('/')
			}
			b.WriteString(e.Key)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel error of e's kind.
func (e *Error) Is(target error) bool {
	s := e.Kind.sentinel()
	return s != nil && target == s
}

// KindOf returns the kind of err: the Kind of the first [*Error] in its
// chain, or the kind of a sentinel it wraps, or KindOther. KindOf(nil)
// is KindOther.
func KindOf(err error) Kind {
	if err == nil {
		return KindOther
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	for _, k := range []Kind{KindNotFound, KindPermissionDenied, KindTransient, KindInvalid} {
		if errors.Is(err, k.sentinel()) {
			return k
		}
	}
	return KindOther
}

// errWriterClosed is returned when a Writer is used after Close or Abort.
var errWriterClosed = errors.New("writer already closed or aborted")

// classify returns the kind of a driver error: errors that already carry
// a kind keep it, a canceled context is KindOther, a deadline is
// transient, and the driver decides the rest.
func classify(d Driver, err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	switch {
	case errors.Is(err, context.Canceled):
		return KindOther
	case errors.Is(err, context.DeadlineExceeded):
		return KindTransient
	}
	return d.ErrorKind(err)
}
