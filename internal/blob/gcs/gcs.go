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
// When the answer to an upload's last request is cut short after a
// success status (which the storage client does not retry), Close checks
// the object's size and CRC32C against the bytes written instead.
//
// Credentials: a service-account JSON key, or application default
// credentials when none is given, or no authentication at all when an
// Endpoint (an emulator) is given without a key.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/internal/httpx"
	htransport "google.golang.org/api/transport/http"
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
	// RequestTimeout bounds how long the store may take to start answering
	// a request; 0 means httpx.DefaultRequestTimeout. A timed-out request
	// is retried like any transient failure.
	RequestTimeout time.Duration
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
	client      *storage.Client
	bkt         *storage.BucketHandle // no retry settings: see object
	listBkt     *storage.BucketHandle // with retry settings, for listing
	name        string
	chunkSize   int
	maxAttempts int
	pageSize    int
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
	// The storage client's own HTTP client has no response timeout; give
	// it one, keeping the authentication the options describe.
	trans, err := htransport.NewTransport(ctx, httpx.Client(opts.RequestTimeout).Transport, copts...)
	if err != nil {
		return nil, &blob.Error{Kind: blob.KindPermissionDenied, Op: "open", Bucket: "gs://" + opts.Bucket, Err: fmt.Errorf("gcs: %w", err)}
	}
	copts = append(copts, option.WithHTTPClient(&http.Client{Transport: trans}))
	client, err := storage.NewClient(ctx, copts...)
	if err != nil {
		kind := blob.KindInvalid
		if opts.CredentialsJSON == "" && opts.Endpoint == "" {
			kind = blob.KindPermissionDenied // no application default credentials
		}
		return nil, &blob.Error{Kind: kind, Op: "open", Bucket: "gs://" + opts.Bucket, Err: fmt.Errorf("gcs: %w", err)}
	}
	d := &driver{
		client:      client,
		bkt:         client.Bucket(opts.Bucket),
		name:        "gs://" + opts.Bucket,
		chunkSize:   opts.ChunkSize,
		maxAttempts: opts.MaxAttempts,
		pageSize:    1000,
	}
	d.listBkt = client.Bucket(opts.Bucket).Retryer(d.retryOptions()...)
	return d, nil
}

func (d *driver) retryOptions() []storage.RetryOption {
	return []storage.RetryOption{
		storage.WithPolicy(storage.RetryAlways),
		storage.WithMaxAttempts(d.maxAttempts),
		storage.WithBackoff(gax.Backoff{Initial: 500 * time.Millisecond, Max: 20 * time.Second, Multiplier: 2}),
	}
}

// object returns a handle on key with the driver's retry settings plus
// extra. Each handle gets its own settings: ObjectHandle.Retryer changes
// an inherited configuration in place, so settings are never put on the
// shared bucket handle.
func (d *driver) object(key string, extra ...storage.RetryOption) *storage.ObjectHandle {
	return d.bkt.Object(key).Retryer(append(d.retryOptions(), extra...)...)
}

func (d *driver) Name() string { return d.name }

func (d *driver) newWriter(ctx context.Context, key string, opts blob.WriterOptions, chunkSize int) *writer {
	wctx, cancel := context.WithCancel(ctx)
	// The storage client bounds upload retries only by time (per chunk)
	// or not at all (single-request uploads); count consecutive failures
	// here so that MaxAttempts holds for every request. A completed chunk
	// resets the count.
	var failures atomic.Int32
	limit := int32(d.maxAttempts)
	obj := d.object(key, storage.WithErrorFunc(func(err error) bool {
		return storage.ShouldRetry(err) && failures.Add(1) < limit
	}))
	w := obj.NewWriter(wctx)
	w.ChunkSize = chunkSize
	w.ContentType = opts.ContentType
	w.ProgressFunc = func(int64) { failures.Store(0) }
	return &writer{w: w, cancel: cancel, ctx: ctx, d: d, key: key}
}

func (d *driver) NewWriter(ctx context.Context, key string, opts blob.WriterOptions) (blob.Writer, error) {
	return d.newWriter(ctx, key, opts, d.chunkSize), nil
}

// Put sends data in one request, with a buffer just large enough to allow
// retries.
func (d *driver) Put(ctx context.Context, key string, data []byte, opts blob.WriterOptions) error {
	chunk := min(d.chunkSize, max(ChunkQuantum, (len(data)+ChunkQuantum-1)/ChunkQuantum*ChunkQuantum))
	return blob.WriteThrough(d.newWriter(ctx, key, opts, chunk), data)
}

// writer wraps storage.Writer; canceling its context abandons the upload.
type writer struct {
	w      *storage.Writer
	cancel context.CancelFunc
	ctx    context.Context // the caller's, for checking the object after Close
	d      *driver
	key    string
	size   int64  // bytes accepted by Write
	crc    uint32 // their CRC32C
}

// castagnoli is the CRC32C table: GCS reports objects' CRC32C.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.size += int64(n)
	w.crc = crc32.Update(w.crc, castagnoli, p[:n])
	return n, convert(err)
}

// Close finalizes the upload. When the answer to the last request was cut
// short after a success status (the store did the work; the client
// cannot read the reply, and the storage client does not retry it), the
// object is checked instead: it is the upload if it has the bytes'
// size and CRC32C.
func (w *writer) Close() error {
	defer w.cancel()
	err := w.w.Close()
	if errors.Is(err, io.ErrUnexpectedEOF) && w.stored() {
		return nil
	}
	return convert(err)
}

// stored reports whether the object under the writer's key holds exactly
// the bytes written.
func (w *writer) stored() bool {
	attrs, err := w.d.object(w.key).Attrs(w.ctx)
	return err == nil && attrs.Size == w.size && attrs.CRC32C == w.crc
}

func (w *writer) Abort() error {
	w.cancel()
	_ = w.w.Close() // reports the cancellation
	return nil
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	r, err := d.object(key).NewReader(ctx)
	if err != nil {
		return nil, convert(err)
	}
	return r, nil
}

func (d *driver) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	a, err := d.object(key).Attrs(ctx)
	if err != nil {
		return blob.ObjectInfo{}, convert(err)
	}
	return blob.ObjectInfo{Key: key, Size: a.Size, ModTime: a.Updated}, nil
}

func (d *driver) ListPage(ctx context.Context, prefix, token string) ([]blob.ObjectInfo, string, error) {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated"}); err != nil {
		return nil, "", err
	}
	var attrs []*storage.ObjectAttrs
	next, err := iterator.NewPager(d.listBkt.Objects(ctx, q), d.pageSize, token).NextPage(&attrs)
	if err != nil {
		return nil, "", convert(err)
	}
	objs := make([]blob.ObjectInfo, 0, len(attrs))
	for _, a := range attrs {
		objs = append(objs, blob.ObjectInfo{Key: a.Name, Size: a.Size, ModTime: a.Updated})
	}
	return objs, next, nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	return convert(d.object(key).Delete(ctx))
}

// tokenError is a one-line form of a refused token request (auth.Error
// spreads the response over several lines).
type tokenError struct {
	status int
	body   string
	err    error
}

func (e *tokenError) Error() string {
	return fmt.Sprintf("gcs: token endpoint answered %d: %s", e.status, e.body)
}

func (e *tokenError) Unwrap() error { return e.err }

// convert shortens errors of refused token requests.
func convert(err error) error {
	var aerr *auth.Error
	if err == nil || !errors.As(err, &aerr) || aerr.Response == nil {
		return err
	}
	body := strings.Join(strings.Fields(string(aerr.Body)), " ")
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return &tokenError{status: aerr.Response.StatusCode, body: body, err: err}
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
