package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/ejson"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

const (
	defaultChunkBytes = 64 << 20
	// flushBytes is how much encoded JSON accumulates before it is handed
	// to the compressor; one reused buffer per unit.
	flushBytes = 256 << 10
)

func (e *Engine) chunkBytes() int64 {
	if e.ChunkBytes > 0 {
		return e.ChunkBytes
	}
	return defaultChunkBytes
}

func (e *Engine) gzipLevel() int {
	if e.GzipLevel != 0 {
		return e.GzipLevel
	}
	return gzip.BestSpeed
}

// exportUnit streams one collection of one replica set into data files,
// resuming after the chunks p records, and records progress after each
// chunk. Memory stays bounded: one document, one JSON buffer, the
// compressor's window and the upload's part buffers.
func (e *Engine) exportUnit(ctx context.Context, dest blob.Bucket, snap *snapshot.Snapshot, job *atlas.ExportJob, u *unit, p store.Progress) (store.Progress, error) {
	p.ProgressKey = u.key
	if u.coll.DataFile == "" || u.coll.DocumentCount == 0 {
		p.Done = true
		return p, e.saveProgress(ctx, job.ID, p)
	}
	r, err := snap.OpenCollection(ctx, u.key.ReplicaSet, u.key.DB, u.key.Coll)
	if err != nil {
		return p, fmt.Errorf("open %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
	}
	defer r.Close()
	for i := int64(0); i < p.DocsDone; i++ {
		if _, err := r.Next(); err != nil {
			return p, fmt.Errorf("resume %s.%s on %s after %d documents: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, p.DocsDone, err)
		}
	}
	c := &chunker{level: e.gzipLevel(), limit: e.chunkBytes(), buf: make([]byte, 0, flushBytes+64<<10)}
	for {
		if cause := context.Cause(ctx); cause != nil {
			return p, cause
		}
		doc, err := r.Next()
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return p, fmt.Errorf("read %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
		}
		if !eof {
			key := dataKey(job.Prefix, u.key.DB, u.key.Coll, u.key.ReplicaSet, p.NextChunk)
			var docs, bytes int64
			docs, bytes, eof, err = c.write(ctx, dest, key, r, doc)
			if err != nil {
				return p, err
			}
			p.NextChunk++
			p.DocsDone += docs
			p.BytesDone += bytes
		}
		p.Done = eof
		if err := e.saveProgress(ctx, job.ID, p); err != nil {
			return p, err
		}
		if e.AfterChunk != nil {
			e.AfterChunk(job.ID, p)
		}
		if eof {
			return p, nil
		}
	}
}

func (e *Engine) saveProgress(ctx context.Context, jobID string, p store.Progress) error {
	return e.Store.SaveExportProgress(ctx, jobID, e.Owner, p)
}

// chunker writes one data file at a time, reusing its buffer and
// compressor between files.
type chunker struct {
	level int
	limit int64
	buf   []byte
	gz    *gzip.Writer
}

// write uploads one data file that starts with first and takes documents
// from r until limit bytes of BSON or the end; it reports the documents
// and BSON bytes the file holds, and whether the collection ended.
func (c *chunker) write(ctx context.Context, dest blob.Bucket, key string, r *snapshot.DocumentReader, first []byte) (docs, bytes int64, eof bool, err error) {
	w, err := dest.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/gzip"})
	if err != nil {
		return 0, 0, false, fmt.Errorf("start %s: %w", key, err)
	}
	if c.gz == nil {
		if c.gz, err = gzip.NewWriterLevel(w, c.level); err != nil {
			_ = w.Abort()
			return 0, 0, false, fmt.Errorf("gzip level %d: %w", c.level, err)
		}
	} else {
		c.gz.Reset(w)
	}
	fail := func(err error) (int64, int64, bool, error) {
		_ = w.Abort()
		return 0, 0, false, err
	}
	doc := first
	for {
		c.buf, err = ejson.AppendDocument(c.buf, doc)
		if err != nil {
			return fail(fmt.Errorf("%s: document %d: %w", key, docs, err))
		}
		c.buf = append(c.buf, '\n')
		docs++
		bytes += int64(len(doc))
		if len(c.buf) >= flushBytes {
			if _, err := c.gz.Write(c.buf); err != nil {
				return fail(fmt.Errorf("write %s: %w", key, err))
			}
			c.buf = c.buf[:0]
		}
		if bytes >= c.limit {
			break
		}
		doc, err = r.Next()
		if errors.Is(err, io.EOF) {
			eof = true
			break
		}
		if err != nil {
			return fail(fmt.Errorf("read for %s: %w", key, err))
		}
		if cause := context.Cause(ctx); cause != nil {
			return fail(cause)
		}
	}
	if len(c.buf) > 0 {
		if _, err := c.gz.Write(c.buf); err != nil {
			return fail(fmt.Errorf("write %s: %w", key, err))
		}
		c.buf = c.buf[:0]
	}
	if err := c.gz.Close(); err != nil {
		return fail(fmt.Errorf("compress %s: %w", key, err))
	}
	if err := w.Close(); err != nil {
		return 0, 0, false, fmt.Errorf("upload %s: %w", key, err)
	}
	return docs, bytes, eof, nil
}
