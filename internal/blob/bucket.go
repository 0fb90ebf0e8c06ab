package blob

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"sync/atomic"
)

// New wraps a driver into a portable Bucket. The Bucket validates keys
// before the driver sees them, tracks writer state, and returns [*Error]
// values classified by the driver's ErrorKind.
func New(d Driver) Bucket {
	return &bucket{d: d}
}

type bucket struct {
	d      Driver
	closed atomic.Bool
}

var errBucketClosed = errors.New("bucket is closed")

// wrap turns a driver error into an *Error naming op, the bucket and key.
func (b *bucket) wrap(op, key string, err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		// A driver's own classified error: fill in what it left out.
		if e.Op != "" && e.Bucket != "" {
			return e
		}
		c := *e
		if c.Op == "" {
			c.Op = op
		}
		if c.Bucket == "" {
			c.Bucket = b.d.Name()
		}
		if c.Key == "" {
			c.Key = key
		}
		return &c
	}
	return &Error{Kind: classify(b.d, err), Op: op, Bucket: b.d.Name(), Key: key, Err: err}
}

func (b *bucket) invalid(op, key string, err error) error {
	return &Error{Kind: KindInvalid, Op: op, Bucket: b.d.Name(), Key: key, Err: err}
}

// check validates the bucket state and the key before an operation.
func (b *bucket) check(op, key string) error {
	if b.closed.Load() {
		return b.invalid(op, key, errBucketClosed)
	}
	if err := ValidateKey(key); err != nil {
		return b.invalid(op, key, err)
	}
	return nil
}

func (b *bucket) NewWriter(ctx context.Context, key string, opts *WriterOptions) (Writer, error) {
	if err := b.check("write", key); err != nil {
		return nil, err
	}
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	w, err := b.d.NewWriter(ctx, key, o)
	if err != nil {
		return nil, b.wrap("write", key, err)
	}
	return &writer{b: b, key: key, w: w}, nil
}

func (b *bucket) WriteAll(ctx context.Context, key string, data []byte, opts *WriterOptions) error {
	if err := b.check("write", key); err != nil {
		return err
	}
	var o WriterOptions
	if opts != nil {
		o = *opts
	}
	return b.wrap("write", key, b.d.Put(ctx, key, data, o))
}

func (b *bucket) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := b.check("read", key); err != nil {
		return nil, err
	}
	r, err := b.d.NewReader(ctx, key)
	if err != nil {
		return nil, b.wrap("read", key, err)
	}
	return &reader{b: b, key: key, r: r}, nil
}

func (b *bucket) ReadAll(ctx context.Context, key string) ([]byte, error) {
	r, err := b.NewReader(ctx, key)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(r)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (b *bucket) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	if err := b.check("stat", key); err != nil {
		return ObjectInfo{}, err
	}
	info, err := b.d.Stat(ctx, key)
	if err != nil {
		return ObjectInfo{}, b.wrap("stat", key, err)
	}
	return info, nil
}

func (b *bucket) Exists(ctx context.Context, key string) (bool, error) {
	_, err := b.Stat(ctx, key)
	switch {
	case err == nil:
		return true, nil
	case KindOf(err) == KindNotFound:
		return false, nil
	default:
		return false, err
	}
}

func (b *bucket) List(ctx context.Context, prefix string) iter.Seq2[ObjectInfo, error] {
	return func(yield func(ObjectInfo, error) bool) {
		if b.closed.Load() {
			yield(ObjectInfo{}, b.invalid("list", prefix, errBucketClosed))
			return
		}
		if err := ValidatePrefix(prefix); err != nil {
			yield(ObjectInfo{}, b.invalid("list", prefix, err))
			return
		}
		token := ""
		for {
			objs, next, err := b.d.ListPage(ctx, prefix, token)
			if err != nil {
				yield(ObjectInfo{}, b.wrap("list", prefix, err))
				return
			}
			for _, o := range objs {
				if !yield(o, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			token = next
		}
	}
}

func (b *bucket) Delete(ctx context.Context, key string) error {
	if err := b.check("delete", key); err != nil {
		return err
	}
	err := b.d.Delete(ctx, key)
	if err != nil && classify(b.d, err) == KindNotFound {
		return nil
	}
	return b.wrap("delete", key, err)
}

func (b *bucket) Sync(ctx context.Context) error {
	if b.closed.Load() {
		return b.invalid("sync", "", errBucketClosed)
	}
	if s, ok := b.d.(Syncer); ok {
		return b.wrap("sync", "", s.Sync(ctx))
	}
	return nil
}

func (b *bucket) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.wrap("close", "", b.d.Close())
}

// writer enforces the Writer state machine over a driver's writer.
type writer struct {
	b     *bucket
	key   string
	w     Writer
	state int // writerOpen, writerClosed, writerAborted
	err   error
}

const (
	writerOpen = iota
	writerClosed
	writerAborted
)

func (w *writer) Write(p []byte) (int, error) {
	if w.state != writerOpen {
		return 0, w.b.invalid("write", w.key, errWriterClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	if err != nil {
		w.err = w.b.wrap("write", w.key, err)
		return n, w.err
	}
	return n, nil
}

func (w *writer) Close() error {
	if w.state != writerOpen {
		return w.b.invalid("write", w.key, errWriterClosed)
	}
	w.state = writerClosed
	if w.err != nil {
		// A failed Write dooms the object, whatever the driver's Close
		// would do with the data it has.
		_ = w.w.Abort()
		return w.err
	}
	return w.b.wrap("write", w.key, w.w.Close())
}

func (w *writer) Abort() error {
	switch w.state {
	case writerAborted:
		return nil
	case writerClosed:
		return w.b.invalid("abort", w.key, errWriterClosed)
	}
	w.state = writerAborted
	return w.b.wrap("abort", w.key, w.w.Abort())
}

// reader wraps read errors other than io.EOF.
type reader struct {
	b   *bucket
	key string
	r   io.ReadCloser
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.wrap("read", r.key, err)
	}
	return n, err
}

func (r *reader) Close() error {
	return r.b.wrap("read", r.key, r.r.Close())
}
