package snapshot

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Storage is where snapshot objects live. Keys are "/"-separated relative
// paths ("<snapshot id>/<rs>/<db>/<file>"); every segment is non-empty and
// none is "." or "..". Implementations must be safe for concurrent use.
//
// BlobStorage implements it over any internal/blob Bucket (S3, Azure, GCS,
// or a local directory through internal/blob/local); internal/stores opens
// the configured one.
type Storage interface {
	// Create starts writing the object named key. The object becomes visible
	// (to Open and List) only when Close returns nil; Abort discards it. An
	// existing object with the same key is replaced on successful Close.
	Create(ctx context.Context, key string) (ObjectWriter, error)
	// Open returns a reader of the object named key. A missing object gives
	// an error for which errors.Is(err, fs.ErrNotExist) is true.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the visible objects whose keys start with prefix (a plain
	// string prefix; "" lists everything), sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object named key and every object whose key starts
	// with key+"/". Deleting nothing is not an error.
	Delete(ctx context.Context, key string) error
}

// ObjectWriter writes one object of a Storage.
type ObjectWriter interface {
	io.Writer
	// Close commits the object; it is visible only if Close returns nil.
	Close() error
	// Abort discards everything written. It is safe to call after Close or
	// Abort (it then does nothing), so `defer w.Abort()` is the usual pattern.
	Abort() error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key  string // full key
	Size int64  // bytes
}

// ValidateKey reports whether key is a well-formed storage key: non-empty,
// relative, "/"-separated, without empty, "." or ".." segments, without
// backslashes or NUL bytes.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("storage key is empty: %w", ErrInvalidName)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("storage key %q contains a backslash or NUL: %w", key, ErrInvalidName)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("storage key %q has an empty, \".\" or \"..\" segment: %w", key, ErrInvalidName)
		}
	}
	return nil
}
