// Package gcs is the blob driver for Google Cloud Storage (and
// fake-gcs-server), on cloud.google.com/go/storage.
//
// Writers use the storage client's resumable uploads: the data goes up in
// chunks of Options.ChunkSize held in one buffer per writer, an object
// smaller than a chunk in a single request, and the object appears only
// when Close finalizes the upload. GCS has no limit on the number of
// chunks, so the chunk size does not need to grow. Abort cancels the
// upload's context; the unfinished session is never visible and expires.
//
// Every request, chunk uploads included, is retried with exponential
// backoff and jitter up to Options.MaxAttempts tries. Object writes are
// retried even without preconditions (the storage client's default is not
// to), which is safe here because a retried write rewrites the same data.
//
// Credentials: a service-account JSON key, or application default
// credentials when none is given, or no authentication at all when an
// Endpoint (an emulator) is given without a key.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/snapex/snapex/internal/blob"
)

// Chunk-size settings.
const (
	// DefaultChunkSize is the chunk size when Options.ChunkSize is 0.
	DefaultChunkSize = 16 << 20
	// ChunkQuantum is the granularity GCS requires of chunk sizes.
	ChunkQuantum = 256 << 10
	// DefaultMaxAttempts is the number of tries per request when
	// Options.MaxAttempts is 0.
	DefaultMaxAttempts = 5
)

// Options configures a GCS bucket.
type Options struct {
	// Bucket is the bucket name. Required.
	Bucket string
	// CredentialsJSON is a service-account key in JSON. Empty means
	// application default credentials, or none when Endpoint is set.
	CredentialsJSON string
	// Endpoint is the JSON API base URL of an emulator, e.g.
	// http://127.0.0.1:4443 or http://127.0.0.1:4443/storage/v1/. Empty
	// means Google Cloud Storage.
	Endpoint string
	// ChunkSize is the resumable-upload chunk size, a multiple of 256 KiB;
	// 0 means 16 MiB. Each writer buffers one chunk.
	ChunkSize int
	// MaxAttempts is the number of tries per request, retries included;
	// 0 means 5.
	MaxAttempts int
}

// Open returns a Bucket for opts. It makes no request: a missing bucket or
// rejected credentials show on the first operation.
func Open(ctx context.Context, opts Options) (blob.Bucket, error) {
	d, err := newDriver(ctx, opts)
	if err != nil {
		return nil, err
	}
	return blob.New(d), nil
}

func invalid(opts Options, format string, args ...any) error {
	return &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: "gs://" + opts.Bucket, Err: fmt.Errorf("gcs: "+format, args...)}
}

type driver struct {
	client    *storage.Client
	bkt       *storage.BucketHandle
	name      string
	chunkSize int
	pageSize  int
}

func newDriver(ctx context.Context, opts Options) (*driver, error) {
	if opts.Bucket == "" {
		return nil, invalid(opts, "Bucket is required")
	}
	if opts.ChunkSize == 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	if opts.ChunkSize < 0 || opts.ChunkSize%ChunkQuantum != 0 {
		return nil, invalid(opts, "ChunkSize %d is not a positive multiple of %d", opts.ChunkSize, ChunkQuantum)
	}
	if opts.MaxAttempts < 0 {
		return nil, invalid(opts, "MaxAttempts must not be negative")
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	copts := []option.ClientOption{storage.WithJSONReads()}
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, invalid(opts, "Endpoint %q is not an http(s) URL", opts.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/storage/v1/"
		}
		copts = append(copts, option.WithEndpoint(u.String()))
	}
	switch {
	case opts.CredentialsJSON != "":
		copts = append(copts, option.WithAuthCredentialsJSON(option.ServiceAccount, []byte(opts.CredentialsJSON)))
	case opts.Endpoint != "":
		copts = append(copts, option.WithoutAuthentication())
	}
	client, err := storage.NewClient(ctx, copts...)
	if err != nil {
		kind := blob.KindInvalid
		if opts.CredentialsJSON == "" && opts.Endpoint == "" {
			kind = blob.KindPermissionDenied // no application default credentials
		}
		return nil, &blob.Error{Kind: kind, Op: "open", Bucket: "gs://" + opts.Bucket, Err: fmt.Errorf("gcs: %w", err)}
	}
	bkt := client.Bucket(opts.Bucket).Retryer(
		storage.WithPolicy(storage.RetryAlways),
		storage.WithMaxAttempts(opts.MaxAttempts),
		storage.WithBackoff(gax.Backoff{Initial: 500 * time.Millisecond, Max: 20 * time.Second, Multiplier: 2}),
	)
	return &driver{client: client, bkt: bkt, name: "gs://" + opts.Bucket, chunkSize: opts.ChunkSize, pageSize: 1000}, nil
}

func (d *driver) Name() string { return d.name }

func (d *driver) newWriter(ctx context.Context, key string, opts blob.WriterOptions, chunkSize int) *writer {
	wctx, cancel := context.WithCancel(ctx)
	w := d.bkt.Object(key).NewWriter(wctx)
	w.ChunkSize = chunkSize
	w.ContentType = opts.ContentType
	return &writer{w: w, cancel: cancel}
}

func (d *driver) NewWriter(ctx context.Context, key string, opts blob.WriterOptions) (blob.Writer, error) {
	return d.newWriter(ctx, key, opts, d.chunkSize), nil
}

// Put sends data in one request, with a buffer just large enough to allow
// retries.
func (d *driver) Put(ctx context.Context, key string, data []byte, opts blob.WriterOptions) error {
	chunk := min(d.chunkSize, max(ChunkQuantum, (len(data)+ChunkQuantum-1)/ChunkQuantum*ChunkQuantum))
	w := d.newWriter(ctx, key, opts, chunk)
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

// writer wraps storage.Writer; canceling its context abandons the upload.
type writer struct {
	w      *storage.Writer
	cancel context.CancelFunc
}

func (w *writer) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *writer) Close() error {
	defer w.cancel()
	return w.w.Close()
}

func (w *writer) Abort() error {
	w.cancel()
	_ = w.w.Close() // reports the cancellation
	return nil
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	return d.bkt.Object(key).NewReader(ctx)
}

func (d *driver) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	a, err := d.bkt.Object(key).Attrs(ctx)
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	return blob.ObjectInfo{Key: key, Size: a.Size, ModTime: a.Updated}, nil
}

func (d *driver) ListPage(ctx context.Context, prefix, token string) ([]blob.ObjectInfo, string, error) {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated"}); err != nil {
		return nil, "", err
	}
	var attrs []*storage.ObjectAttrs
	next, err := iterator.NewPager(d.bkt.Objects(ctx, q), d.pageSize, token).NextPage(&attrs)
	if err != nil {
		return nil, "", err
	}
	objs := make([]blob.ObjectInfo, 0, len(attrs))
	for _, a := range attrs {
		objs = append(objs, blob.ObjectInfo{Key: a.Name, Size: a.Size, ModTime: a.Updated})
	}
	return objs, next, nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	return d.bkt.Object(key).Delete(ctx)
}

func (d *driver) Close() error { return d.client.Close() }

// ErrorKind classifies GCS errors: the storage client's sentinels, then
// the HTTP status of API errors, then credential and transport failures.
func (d *driver) ErrorKind(err error) blob.Kind {
	return kindOf(err)
}

func kindOf(err error) blob.Kind {
	if errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist) {
		return blob.KindNotFound
	}
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return statusKind(gerr.Code)
	}
	var aerr *auth.Error
	if errors.As(err, &aerr) {
		// The token endpoint refused the credentials, unless it failed.
		if aerr.Response != nil && statusKind(aerr.Response.StatusCode) == blob.KindTransient {
			return blob.KindTransient
		}
		return blob.KindPermissionDenied
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return blob.KindTransient
	}
	if strings.Contains(err.Error(), "credentials: could not find default credentials") {
		return blob.KindPermissionDenied
	}
	return blob.KindOther
}

func statusKind(code int) blob.Kind {
	switch {
	case code == 404:
		return blob.KindNotFound
	case code == 401 || code == 403:
		return blob.KindPermissionDenied
	case code == 408 || code == 429 || code >= 500:
		return blob.KindTransient
	}
	return blob.KindOther
}
