package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/ejson"
	"github.com/snapex/snapex/internal/export/format"
)

// blockBytes is how much BSON one compression task takes. Each block
// becomes one gzip member; a data file is the members of its blocks in
// order (RFC 1952 multi-member, as pigz writes, which gunzip, Go, Python
// and Java all read as one stream). ~1 MiB costs ~0.3 % of output size
// and lets every core work on one collection.
const blockBytes = 1 << 20

// block is one unit of encode+compress work.
type block struct {
	raw  []byte // concatenated BSON documents
	docs int64
	out  bytes.Buffer // the gzip member
	err  error
	done chan struct{}
}

// compressor runs encode+compress tasks on a fixed set of goroutines.
type compressor struct {
	level int
	tasks chan *block
	wg    sync.WaitGroup
	pool  sync.Pool // *block
	// workers is how many goroutines encode.
	workers int
	// busyMeter times the encoding of small collections' blocks, which
	// sizes how many small collections are in flight (inflight.go).
	busyMeter
}

// newCompressor starts workers (GOMAXPROCS when n ≤ 0).
func newCompressor(level, n int) *compressor {
	n = defaultWorkers(n)
	c := &compressor{level: level, tasks: make(chan *block), workers: n}
	c.pool.New = func() any { return &block{raw: make([]byte, 0, blockBytes+64<<10)} }
	c.wg.Add(n)
	for i := 0; i < n; i++ {
		go c.work()
	}
	return c
}

// close stops the workers once every submitted task is done.
func (c *compressor) close() {
	close(c.tasks)
	c.wg.Wait()
}

func (c *compressor) get() *block {
	b := c.pool.Get().(*block)
	b.raw, b.docs, b.err = b.raw[:0], 0, nil
	b.out.Reset()
	b.done = make(chan struct{})
	return b
}

// getFor returns a block for data expected to hold about want bytes of
// BSON: a pooled full-size block, or for a small collection one sized to
// it, so that many small collections in flight hold kilobytes, not a
// MiB each.
func (c *compressor) getFor(want int64) *block {
	if want <= 0 || want >= blockBytes/2 {
		return c.get()
	}
	return &block{raw: make([]byte, 0, want), done: make(chan struct{})}
}

// put returns a full-size block to the pool; small ones are left to the
// garbage collector.
func (c *compressor) put(b *block) {
	if cap(b.raw) >= blockBytes {
		c.pool.Put(b)
	}
}

// work encodes blocks until the compressor closes. Each worker keeps its
// own JSON buffer and gzip writer for its whole life rather than taking
// them from a sync.Pool: a pool is emptied by every other garbage
// collection, which an export of thousands of small collections runs
// often, and a new level-1 writer allocates and clears several hundred
// KiB of tables.
func (c *compressor) work() {
	defer c.wg.Done()
	var enc encoder
	for b := range c.tasks {
		start := time.Now()
		b.err = enc.encode(b, c.level)
		if len(b.raw) < blockBytes/2 {
			c.add(time.Since(start))
		}
		close(b.done)
	}
}

// encoder is one worker's reusable encoding state.
type encoder struct {
	line []byte       // the block's JSON lines
	zw   *gzip.Writer // nil until the first block
}

// encode writes the block's documents as canonical Extended JSON lines,
// compressed into one gzip member.
func (e *encoder) encode(b *block, level int) error {
	buf := e.line[:0]
	for raw := b.raw; len(raw) > 0; {
		n := int(uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24)
		var err error
		if buf, err = ejson.AppendDocument(buf, raw[:n]); err != nil {
			return err
		}
		buf = append(buf, '\n')
		raw = raw[n:]
	}
	// Keep the buffer unless a block far larger than usual grew it.
	if cap(buf) <= 2*blockBytes {
		e.line = buf
	}
	if e.zw == nil {
		zw, err := gzip.NewWriterLevel(&b.out, level)
		if err != nil {
			return fmt.Errorf("gzip level %d: %w", level, err)
		}
		e.zw = zw
	} else {
		e.zw.Reset(&b.out)
	}
	if _, err := e.zw.Write(buf); err != nil {
		return err
	}
	return e.zw.Close()
}

// startChunk begins one data file that starts with first and takes
// documents from r until limit bytes of BSON or the end of the
// collection. Blocks are encoded and compressed in parallel and written
// in order; at most depth blocks are in flight, which bounds memory. A
// file of a single block (small collections) is sent in one request
// without a streaming writer, so no upload part buffer is held for it.
// want is how much BSON the collection has left, to size the first block.
// It returns once the file's documents are read and handed to
// compression, reporting how many documents and BSON bytes the file
// holds and whether the collection ended; a streamed file's last blocks
// and final upload requests (the last part, the multipart completion)
// then proceed on their own, so the caller can read the next file
// meanwhile, and finish waits for them: it reports whether the file is
// at key, and aborts the upload on failure. finish must be called once,
// also after an error. Every block handed to compression is counted in
// live, so progress shows inside a large data file.
func (c *compressor) startChunk(ctx context.Context, dest blob.Bucket, key string, r format.Documents, first []byte, limit, want int64, depth int, live func(docs, bytes int64)) (docs, size int64, eof bool, finish func() error, err error) {
	var (
		w        blob.Writer
		inflight chan *block
		werr     chan error
	)
	// stream opens the streaming upload when a second block is coming.
	stream := func() error {
		var err error
		if w, err = dest.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
			return fmt.Errorf("start %s: %w", key, err)
		}
		inflight, werr = make(chan *block, depth), make(chan error, 1)
		go func() { werr <- c.drain(w, key, inflight) }()
		return nil
	}
	submit := func(b *block) bool {
		live(b.docs, int64(len(b.raw)))
		inflight <- b
		select {
		case c.tasks <- b:
			return true
		case <-ctx.Done():
			b.err = context.Cause(ctx)
			close(b.done)
			return false
		}
	}
	cur := c.getFor(want)
	doc := first
	var readErr error
	for {
		cur.raw = append(cur.raw, doc...)
		cur.docs++
		docs++
		size += int64(len(doc))
		if size >= limit {
			break
		}
		if len(cur.raw) >= blockBytes {
			if w == nil {
				if readErr = stream(); readErr != nil {
					break
				}
			}
			if !submit(cur) {
				cur = nil
				break
			}
			cur = c.get()
		}
		doc, readErr = r.Next()
		if errors.Is(readErr, io.EOF) {
			eof, readErr = true, nil
			break
		}
		if readErr != nil {
			readErr = fmt.Errorf("read for %s: %w", key, readErr)
			break
		}
		if cause := context.Cause(ctx); cause != nil {
			readErr = cause
			break
		}
	}
	if w == nil {
		b := cur
		if readErr != nil {
			c.put(b)
			return 0, 0, false, func() error { return readErr }, readErr
		}
		return docs, size, eof, func() error { return c.writeSingle(ctx, dest, key, b, live) }, nil
	}
	if cur != nil && len(cur.raw) > 0 {
		submit(cur)
	}
	close(inflight)
	done := make(chan error, 1)
	go func() { done <- complete(ctx, w, key, werr, readErr) }()
	finish = func() error { return <-done }
	if readErr != nil {
		return 0, 0, false, finish, readErr
	}
	return docs, size, eof, finish, nil
}

// complete waits for a streamed file's blocks to be written to w and
// commits the upload, or aborts it after any failure (readErr included).
func complete(ctx context.Context, w blob.Writer, key string, werr <-chan error, readErr error) error {
	if err := <-werr; err != nil || readErr != nil {
		_ = w.Abort()
		if readErr != nil {
			return readErr
		}
		return err
	}
	if cause := context.Cause(ctx); cause != nil {
		_ = w.Abort()
		return cause
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// writeSingle compresses a file's only block and uploads it in one request.
func (c *compressor) writeSingle(ctx context.Context, dest blob.Bucket, key string, b *block, live func(docs, bytes int64)) error {
	defer c.put(b)
	select {
	case c.tasks <- b:
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	live(b.docs, int64(len(b.raw)))
	<-b.done
	if b.err != nil {
		return fmt.Errorf("%s: %w", key, b.err)
	}
	if err := dest.WriteAll(ctx, key, b.out.Bytes(), &blob.WriterOptions{ContentType: "application/gzip"}); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// drain writes finished blocks to w in submission order; after a failure
// it keeps consuming so the producer never blocks.
func (c *compressor) drain(w blob.Writer, key string, inflight <-chan *block) error {
	var first error
	for b := range inflight {
		<-b.done
		if first == nil && b.err != nil {
			first = fmt.Errorf("%s: %w", key, b.err)
		}
		if first == nil {
			if _, err := w.Write(b.out.Bytes()); err != nil {
				first = fmt.Errorf("write %s: %w", key, err)
			}
		}
		c.put(b)
	}
	return first
}
