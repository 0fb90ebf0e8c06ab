// Package parts is the streaming part uploader shared by the S3 and Azure
// drivers: it cuts a stream into parts, uploads them in the background
// while the next part fills, grows the part size as the object grows, and
// commits or aborts the upload.
//
// Memory per Writer is bounded by MaxInFlight+1 part buffers; buffers are
// pooled across writers by size.
package parts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Uploader is the store-specific side of a multipart upload. Start,
// UploadPart, Complete and Abort run only when the object needs more than
// one part; a smaller object goes through PutSingle alone.
type Uploader interface {
	// Start begins a multipart upload before the first part.
	Start(ctx context.Context) error
	// UploadPart uploads part n (1-based). It may run concurrently with
	// other UploadPart calls and must not keep body after returning.
	UploadPart(ctx context.Context, n int, body *Body) error
	// Complete makes parts 1..n the object's content.
	Complete(ctx context.Context, n int) error
	// Abort discards a started upload.
	Abort(ctx context.Context) error
	// PutSingle stores body as the whole object in one request.
	PutSingle(ctx context.Context, body *Body) error
}

// Config sizes the parts of one upload.
type Config struct {
	// PartSize is the size of the first parts.
	PartSize int64
	// MaxPartSize caps the part size as it grows.
	MaxPartSize int64
	// MaxParts is the store's limit on the number of parts.
	MaxParts int
	// GrowEvery is how many parts are sent at one size before the size
	// doubles (capped at MaxPartSize). Zero means MaxParts/10.
	GrowEvery int
	// MaxInFlight is how many parts may upload while the next one fills.
	// Zero means 1.
	MaxInFlight int
}

func (c Config) growEvery() int {
	if c.GrowEvery > 0 {
		return c.GrowEvery
	}
	if g := c.MaxParts / 10; g > 0 {
		return g
	}
	return 1
}

// SizeOf returns the size of part n (1-based).
func (c Config) SizeOf(n int) int64 {
	size := c.PartSize
	for steps := (n - 1) / c.growEvery(); steps > 0 && size < c.MaxPartSize; steps-- {
		size *= 2
	}
	return min(size, c.MaxPartSize)
}

// MaxObjectSize returns the largest object the schedule can upload.
func (c Config) MaxObjectSize() int64 {
	var total int64
	g := c.growEvery()
	for n := 1; n <= c.MaxParts; n += g {
		k := min(g, c.MaxParts-n+1)
		total += int64(k) * c.SizeOf(n)
	}
	return total
}

// abortTimeout bounds the clean-up request after a failed or aborted upload.
const abortTimeout = 2 * time.Minute

// ErrTooLarge is returned when an object outgrows its part schedule.
var ErrTooLarge = errors.New("object exceeds the largest size the store accepts in one upload")

// Writer is an io.WriteCloser that uploads through an Uploader.
type Writer struct {
	ctx    context.Context // caller's context, for Abort after cancellation
	upCtx  context.Context // canceled on the first part failure or on Abort
	cancel context.CancelFunc
	u      Uploader
	cfg    Config

	cur     []byte // part being filled; len = filled, cap = part size
	n       int    // parts handed to UploadPart
	started bool
	done    bool
	sem     chan struct{}
	wg      sync.WaitGroup

	mu  sync.Mutex
	err error // first failure
}

// NewWriter returns a Writer that uploads through u with ctx.
func NewWriter(ctx context.Context, u Uploader, cfg Config) *Writer {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 1
	}
	upCtx, cancel := context.WithCancel(ctx)
	return &Writer{
		ctx:    ctx,
		upCtx:  upCtx,
		cancel: cancel,
		u:      u,
		cfg:    cfg,
		sem:    make(chan struct{}, cfg.MaxInFlight),
	}
}

var errClosed = errors.New("writer already closed")

func (w *Writer) setErr(err error) {
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *Writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Write copies p into part buffers, handing each full part to the
// uploader once more data follows it.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	written := 0
	for len(p) > 0 {
		if err := w.failure(); err != nil {
			return written, err
		}
		if w.cur != nil && len(w.cur) == cap(w.cur) {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
		if w.cur == nil {
			if w.n >= w.cfg.MaxParts {
				err := fmt.Errorf("%w (%d bytes in %d parts)", ErrTooLarge, w.cfg.MaxObjectSize(), w.cfg.MaxParts)
				w.setErr(err)
				return written, err
			}
			w.cur = getBuf(w.cfg.SizeOf(w.n + 1))
		}
		k := copy(w.cur[len(w.cur):cap(w.cur)], p)
		w.cur = w.cur[:len(w.cur)+k]
		p = p[k:]
		written += k
	}
	return written, nil
}

// flush hands the current buffer to a background upload, waiting while
// MaxInFlight uploads are already running.
func (w *Writer) flush() error {
	if !w.started {
		if err := w.u.Start(w.upCtx); err != nil {
			err = fmt.Errorf("start upload: %w", err)
			w.setErr(err)
			return err
		}
		w.started = true
	}
	select {
	case w.sem <- struct{}{}:
	case <-w.upCtx.Done():
		if err := w.failure(); err != nil {
			return err
		}
		err := context.Cause(w.upCtx)
		w.setErr(err)
		return err
	}
	w.n++
	n, buf := w.n, w.cur
	w.cur = nil
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		body := NewBody(buf)
		err := w.u.UploadPart(w.upCtx, n, body)
		body.Fence()
		putBuf(buf)
		<-w.sem
		if err != nil {
			w.setErr(fmt.Errorf("upload part %d: %w", n, err))
			w.cancel()
		}
	}()
	return nil
}

// Close uploads what is left and commits the object; on any failure it
// aborts the upload and returns the first error.
func (w *Writer) Close() error {
	if w.done {
		return errClosed
	}
	w.done = true
	defer w.cancel()
	if err := w.failure(); err != nil {
		w.discard()
		return err
	}
	if !w.started {
		body := NewBody(w.cur)
		err := w.u.PutSingle(w.upCtx, body)
		body.Fence()
		w.release()
		return err
	}
	if len(w.cur) > 0 {
		if err := w.flush(); err != nil {
			w.discard()
			return err
		}
	}
	w.wg.Wait()
	if err := w.failure(); err != nil {
		w.discard()
		return err
	}
	if err := w.u.Complete(w.upCtx, w.n); err != nil {
		err = fmt.Errorf("complete upload of %d parts: %w", w.n, err)
		w.discard()
		return err
	}
	return nil
}

// Abort stops the upload and discards the parts sent so far.
func (w *Writer) Abort() error {
	if w.done {
		return errClosed
	}
	w.done = true
	return w.discard()
}

// discard cancels running part uploads, waits for them, and aborts a
// started upload with a fresh bounded context (the caller's may be gone).
func (w *Writer) discard() error {
	w.cancel()
	w.wg.Wait()
	w.release()
	if !w.started {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), abortTimeout)
	defer cancel()
	if err := w.u.Abort(ctx); err != nil {
		return fmt.Errorf("abort upload: %w", err)
	}
	return nil
}

func (w *Writer) release() {
	if w.cur != nil {
		putBuf(w.cur)
		w.cur = nil
	}
}

// Body is a part's data as an io.ReadSeekCloser whose reads fail once the
// upload call has returned, so that an HTTP transport still holding it
// cannot observe the buffer after it is reused.
type Body struct {
	mu     sync.Mutex
	data   []byte
	off    int64
	fenced bool
}

// NewBody returns a Body reading data.
func NewBody(data []byte) *Body { return &Body{data: data} }

var errFenced = errors.New("part body used after its upload returned")

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fenced {
		return 0, errFenced
	}
	if b.off >= int64(len(b.data)) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += int64(n)
	return n, nil
}

// WriteTo implements io.WriterTo, so that io.Copy from a Body (the AWS
// SDK reads every single-request body once for its CRC32 and, without
// TLS, its SigV4 payload hash) writes the bytes as they are instead of
// allocating a 32 KiB copy buffer for each request: for small objects
// that buffer was most of what a PUT allocated. The lock is held across
// the write, as the SDK's own request-body wrapper holds its lock across
// WriteTo, so the buffer cannot be fenced (and reused) mid-write.
func (b *Body) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fenced {
		return 0, errFenced
	}
	if b.off >= int64(len(b.data)) {
		return 0, nil
	}
	rest := b.data[b.off:]
	n, err := w.Write(rest)
	b.off += int64(n)
	if err == nil && n < len(rest) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// Seek implements io.Seeker.
func (b *Body) Seek(offset int64, whence int) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fenced {
		return 0, errFenced
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = b.off + offset
	case io.SeekEnd:
		abs = int64(len(b.data)) + offset
	default:
		return 0, errors.New("parts.Body.Seek: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("parts.Body.Seek: negative position")
	}
	b.off = abs
	return abs, nil
}

// Len returns the number of unread bytes, as bytes.Reader does; SDKs use
// it to set Content-Length.
func (b *Body) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.off >= int64(len(b.data)) {
		return 0
	}
	return len(b.data) - int(b.off)
}

// Size returns the total length of the part.
func (b *Body) Size() int64 { return int64(len(b.data)) }

// Close does nothing: the buffer belongs to the Writer.
func (b *Body) Close() error { return nil }

// Fence makes every later Read and Seek fail.
func (b *Body) Fence() {
	b.mu.Lock()
	b.fenced = true
	b.mu.Unlock()
}

// pools holds one sync.Pool of part buffers per size.
var pools sync.Map // int64 -> *sync.Pool

func getBuf(size int64) []byte {
	if p, ok := pools.Load(size); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]byte); ok {
			return (*b)[:0]
		}
	}
	return make([]byte, 0, size)
}

func putBuf(b []byte) {
	if cap(b) == 0 {
		return
	}
	size := int64(cap(b))
	p, _ := pools.LoadOrStore(size, new(sync.Pool))
	b = b[:0]
	p.(*sync.Pool).Put(&b)
}
