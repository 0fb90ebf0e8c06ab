// Package blob is snapex's portable object-storage layer.
//
// A [Bucket] is what the rest of snapex uses to write export files into a
// customer's bucket or container. Each storage service has a driver
// (internal/blob/s3, internal/blob/azure, internal/blob/gcs and
// internal/blob/local) that implements the narrow [Driver] interface;
// [New] wraps a driver into a Bucket that validates keys, tracks writer
// state, and turns every driver error into an [*Error] with a [Kind].
// The conformance suite in internal/blob/blobtest runs against every driver.
//
// Objects are written through a streaming [Writer] and become visible only
// when Close succeeds: a failed or aborted write never leaves a partial
// object under its key (it may leave an invisible partial upload that the
// store expires, see the drivers' docs).
package blob

import (
	"context"
	"io"
	"iter"
	"time"
)

// Bucket is a portable handle on one bucket (S3 bucket, Azure container,
// GCS bucket or local directory). It is safe for concurrent use.
type Bucket interface {
	// NewWriter starts writing the object key. The object becomes visible
	// only when the Writer's Close returns nil; Abort, a failed Close or a
	// canceled ctx leave any previous object under key unchanged. The
	// caller must call Close or Abort. opts may be nil.
	NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error)

	// WriteAll writes data as the whole content of key in one request
	// where the store allows it. Meant for small objects such as
	// .permissioncheck, metadata.json and .complete. opts may be nil.
	WriteAll(ctx context.Context, key string, data []byte, opts *WriterOptions) error

	// NewReader opens key for reading. A missing key gives an error of
	// kind KindNotFound. The caller must close the reader.
	NewReader(ctx context.Context, key string) (io.ReadCloser, error)

	// ReadAll reads the whole object key.
	ReadAll(ctx context.Context, key string) ([]byte, error)

	// Stat returns the size and modification time of key.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// Exists reports whether key exists. It returns false and a nil error
	// only when the store said the object is not there.
	Exists(ctx context.Context, key string) (bool, error)

	// List yields every object whose key starts with prefix, at any depth
	// (no delimiter), in ascending byte order of keys. An empty prefix
	// lists the whole bucket. After an error is yielded the iteration ends.
	List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error]

	// Delete removes key. Deleting a key that does not exist succeeds.
	Delete(ctx context.Context, key string) error

	// Sync makes every object whose Close or WriteAll has returned
	// durable, for stores that acknowledge writes before they are (the
	// local driver opened with DeferSync). Cloud stores acknowledge only
	// durable writes, so it does nothing for them. A caller that records
	// progress about written objects calls Sync before recording it.
	Sync(ctx context.Context) error

	// Close releases the bucket's resources. Writers and readers still
	// open must not be used afterwards.
	Close() error
}

// Syncer is implemented by drivers whose acknowledged writes may not yet
// be durable; Bucket.Sync calls it.
type Syncer interface {
	// Sync makes every acknowledged write durable.
	Sync(ctx context.Context) error
}

// Writer streams one object. It is not safe for concurrent use.
//
// If Write returns an error, the upload has failed: Close then returns an
// error too and no object is created.
type Writer interface {
	io.WriteCloser
	// Abort discards everything written so far and leaves the key as it
	// was before NewWriter. Abort after Abort is a no-op; Abort after a
	// successful Close returns an error and changes nothing.
	Abort() error
}

// WriterOptions are optional settings for a new object.
type WriterOptions struct {
	// ContentType is the object's MIME type; empty lets the store pick
	// its default (application/octet-stream on S3 and Azure).
	ContentType string
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	// Key is the object's full key.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// ModTime is when the object was last written, as the store reports it.
	ModTime time.Time
}

// Driver is the narrow interface a storage backend implements. Keys and
// prefixes it receives have already been validated with [ValidateKey] and
// [ValidatePrefix]. Errors it returns are wrapped by [New] into [*Error]
// values whose kind comes from ErrorKind.
type Driver interface {
	// Name identifies the bucket in messages, e.g. "s3://name".
	Name() string

	// NewWriter starts a streaming upload of key. See Bucket.NewWriter
	// for the visibility rules the returned Writer must keep.
	NewWriter(ctx context.Context, key string, opts WriterOptions) (Writer, error)

	// Put stores data as key in a single request where possible. The
	// driver must not keep data after Put returns.
	Put(ctx context.Context, key string, data []byte, opts WriterOptions) error

	// NewReader opens key for reading.
	NewReader(ctx context.Context, key string) (io.ReadCloser, error)

	// Stat describes key.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// ListPage returns one page of objects under prefix in ascending key
	// order, starting after the page that returned token ("" for the
	// first page). It returns the token of the next page, or "" on the
	// last page.
	ListPage(ctx context.Context, prefix, token string) (objs []ObjectInfo, next string, err error)

	// Delete removes key. It may return a not-found error for a missing
	// key; the portable layer turns that into success.
	Delete(ctx context.Context, key string) error

	// ErrorKind classifies an error returned by the driver's methods.
	ErrorKind(err error) Kind

	// Close releases the driver's resources.
	Close() error
}

// WriteThrough stores data as the whole content of w's object and closes
// w, aborting it if the write fails. Drivers use it for Put calls that go
// through their streaming writer (data larger than one request allows).
func WriteThrough(w Writer, data []byte) error {
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}
