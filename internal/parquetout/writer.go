// Package parquetout writes a snapshot's collections as Parquet files
// that analytics engines (DuckDB, Spark, Athena, BigQuery) read with the
// types they expect. It uses Apache Arrow's Go implementation
// (arrow-go's pqarrow), which computes the repetition and definition
// levels of nested groups and lists from typed Arrow builders.
//
// Schema: inferred per collection and replica set by a first pass over
// all of its documents (exact, so no later document can fall outside it;
// the pass costs one extra read of the snapshot, no memory beyond the
// schema tree, which maxFields and maxDepth bound). Mapping: double →
// DOUBLE, string → STRING, ObjectId → STRING of 24 hex digits, bool →
// BOOLEAN, date → TIMESTAMP(MILLIS, UTC), int32 → INT32, int64 → INT64,
// decimal128 → DECIMAL(38, s) when every value of the field fits (else
// its Extended JSON), binary → BYTE_ARRAY (subtype dropped), embedded
// document → group, array → LIST; every other type (timestamp, regex,
// JavaScript, symbol, DBPointer, min/max key) → its canonical Extended
// JSON string. Null and absent both read as NULL. Fields whose type
// varies: see resolve.
package parquetout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export/format"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// rowGroupBytes closes a row group after this much BSON input whatever
// rowGroupRows says: a row group is built in memory before it is
// written, so this and groupSlots bound the writers' memory. Measured
// (TestMemoryStaysBounded): ~50 MiB live heap for one file.
const rowGroupBytes = 8 << 20

// ContentType is the MIME type of Parquet files.
const ContentType = "application/vnd.apache.parquet"

// Format is the Parquet output format.
type Format struct{}

// ContentType implements format.Format.
func (Format) ContentType() string { return ContentType }

// Collection infers the collection's schema with one pass over it.
func (Format) Collection(ctx context.Context, scan func(context.Context) (format.Documents, error), opts *atlas.ExportOptions) (format.Collection, error) {
	po := opts.Parquet
	if po == nil {
		po = &atlas.ParquetOptions{Compression: "zstd", RowGroupRows: atlas.DefaultRowGroupRows}
	}
	r, err := scan(ctx)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	root, err := infer(ctx, r)
	if err != nil {
		return nil, err
	}
	return NewCollection(newSchema(root, po.FullDocument), po)
}

// Collection writes one collection's files with a fixed schema.
type Collection struct {
	schema *Schema
	props  *parquet.WriterProperties
	rows   int
	// files counts the collection's files being written, so a file
	// started while another is encoding may take overlapSlots.
	files atomic.Int32
}

// NewCollection returns the writer of files with schema s.
func NewCollection(s *Schema, po *atlas.ParquetOptions) (*Collection, error) {
	var codec compress.Compression
	level := compress.DefaultCompressionLevel
	switch po.Compression {
	case "zstd", "":
		// zstd's fastest level: a file's one encoder bounds its speed,
		// and level 1 wrote the benchmark's 100 MiB collection as one
		// file in ~30 % less time than the default level 3, for 2 % more
		// output (12 % more on lorem-ipsum text).
		codec, level = compress.Codecs.Zstd, 1
	case "snappy":
		codec = compress.Codecs.Snappy
	case "gzip":
		codec = compress.Codecs.Gzip
	default:
		return nil, fmt.Errorf("parquet compression %q is not zstd, snappy or gzip", po.Compression)
	}
	rows := po.RowGroupRows
	if rows <= 0 {
		rows = atlas.DefaultRowGroupRows
	}
	// No dictionary encoding: a file's one encoder bounds its speed, and
	// arrow-go hashes every value of every column into a dictionary page
	// (and keeps a column's dictionary-encoded pages in memory until the
	// row group closes). Without it the benchmark's 500 MiB collection
	// took ~9 % less CPU and time, and no more peak RSS, for ~5 %
	// more output (0.204 of the BSON instead of 0.194): zstd already
	// shrinks the repeated values a dictionary would. Columns whose
	// dictionary outgrew its page limit were written PLAIN anyway.
	props := parquet.NewWriterProperties(
		parquet.WithCompression(codec),
		parquet.WithCompressionLevel(level),
		parquet.WithMaxRowGroupLength(int64(rows)),
		parquet.WithCreatedBy("snapex"),
		parquet.WithDictionaryDefault(false),
		parquet.WithAllocator(memory.DefaultAllocator),
	)
	return &Collection{schema: s, props: props, rows: rows}, nil
}

// writeOnly hides the upload's Close from pqarrow, which closes a sink
// that has one even when a write failed; the caller decides between Close
// and Abort.
type writeOnly struct{ w io.Writer }

func (w writeOnly) Write(p []byte) (int, error) { return w.w.Write(p) }

// StartFile implements format.Collection: row groups of at most rows
// documents or rowGroupBytes of BSON, streamed to the upload as each is
// encoded; progress is told of each row group once it is written.
func (c *Collection) StartFile(ctx context.Context, dest blob.Bucket, key string, r format.Documents, first bson.Raw, limit int64, progress func(docs, bytes int64)) (docs, size int64, eof bool, finish func() error, err error) {
	w, err := dest.NewWriter(ctx, key, &blob.WriterOptions{ContentType: ContentType})
	if err != nil {
		err = fmt.Errorf("start %s: %w", key, err)
		return 0, 0, false, func() error { return err }, err
	}
	docs, size, eof, wait, err := c.start(ctx, writeOnly{w}, r, first, limit, progress)
	finish = func() error {
		if err := wait(); err != nil {
			_ = w.Abort()
			return fmt.Errorf("%s: %w", key, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
		return nil
	}
	if err != nil {
		_ = finish()
		return 0, 0, false, func() error { return fmt.Errorf("%s: %w", key, err) }, fmt.Errorf("%s: %w", key, err)
	}
	return docs, size, eof, finish, nil
}

// Write writes one Parquet file to w (see StartFile); w is not closed.
func (c *Collection) Write(ctx context.Context, w io.Writer, r format.Documents, first bson.Raw, limit int64) (docs, size int64, eof bool, err error) {
	docs, size, eof, wait, err := c.start(ctx, w, r, first, limit, nil)
	if werr := wait(); err == nil {
		err = werr
	}
	if err != nil {
		return 0, 0, false, err
	}
	return docs, size, eof, nil
}

// start reads one file's documents into row groups on the calling
// goroutine and hands them to the pipeline (pipeline.go); wait returns
// once the file is written to w, or failed. wait must be called, even
// after an error.
func (c *Collection) start(ctx context.Context, w io.Writer, r format.Documents, first bson.Raw, limit int64, progress func(docs, bytes int64)) (docs, size int64, eof bool, wait func() error, err error) {
	fw, err := pqarrow.NewFileWriter(c.schema.arrow, w, c.props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		err = fmt.Errorf("parquet writer: %w", err)
		return 0, 0, false, func() error { return err }, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	bs := startBuilders(c.schema, runtime.GOMAXPROCS(0))
	// Groups wait for the encoder in submission order; a slot of
	// groupSlots and overlapSlots bound how many are in flight.
	order := make(chan *group, cap(groupSlots)+cap(overlapSlots))
	overlap := c.files.Add(1) > 1
	werr := make(chan error, 1)
	go func() { werr <- encode(fw, order, progress, cancel) }()
	var (
		cur   *group
		piece []byte
	)
	// acquire starts the next group once a slot is free, and hands it to
	// a builder, which takes its pieces as they come.
	acquire := func() error {
		extra := overlapSlots
		if !overlap {
			extra = nil // never ready
		}
		fromExtra := false
		select {
		case groupSlots <- struct{}{}:
		case extra <- struct{}{}:
			fromExtra = true
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		g := newGroup(docs)
		g.overlap = fromExtra
		order <- g // the encoder frees the slot, whatever becomes of g
		if !bs.submit(ctx, g) {
			return context.Cause(ctx)
		}
		cur, piece = g, getPiece()
		return nil
	}
	// send passes the piece read so far to the current group's builder.
	send := func() error {
		select {
		case cur.pieces <- piece:
			piece = nil
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	// end closes the current group: complete, or aborted after an error.
	end := func(aborted bool) {
		if piece != nil {
			if len(piece) > 0 && !aborted && send() != nil {
				aborted = true
			}
			if piece != nil {
				putPiece(piece)
				piece = nil
			}
		}
		cur.aborted = aborted
		close(cur.pieces)
		cur = nil
	}
	readErr := acquire()
	doc := first
	for readErr == nil {
		if len(piece)+len(doc) > pieceBytes && len(piece) > 0 {
			if readErr = send(); readErr != nil {
				break
			}
			piece = getPiece()
		}
		piece = append(piece, doc...)
		cur.docs++
		cur.size += int64(len(doc))
		docs++
		size += int64(len(doc))
		if cur.docs >= int64(c.rows) || cur.size >= rowGroupBytes {
			end(false)
			if size < limit {
				if readErr = acquire(); readErr != nil {
					break
				}
			}
		}
		if size >= limit {
			break
		}
		doc, readErr = r.Next()
		if errors.Is(readErr, io.EOF) {
			eof, readErr = true, nil
			break
		}
		if readErr != nil {
			readErr = fmt.Errorf("read: %w", readErr)
			break
		}
		if docs&1023 == 0 {
			readErr = context.Cause(ctx)
		}
	}
	if readErr != nil {
		cancel(readErr)
	}
	if cur != nil {
		// A group left empty (the collection ended right after a full
		// one) is built into no record at all.
		end(readErr != nil)
	}
	close(order)
	var once sync.Once
	var result error
	wait = func() error {
		once.Do(func() {
			defer c.files.Add(-1)
			defer cancel(nil)
			result = <-werr
			bs.close()
			if result == nil {
				result = context.Cause(ctx)
			}
			if result == nil {
				if err := fw.Close(); err != nil {
					result = fmt.Errorf("finish parquet file: %w", err)
				}
			}
		})
		return result
	}
	if readErr != nil {
		return 0, 0, false, wait, readErr
	}
	return docs, size, eof, wait, nil
}

// encode writes the groups' records to fw in order as each is built, and
// frees each group's slot. After a failure it cancels the file (so the
// reader stops) and keeps draining, so that nothing upstream blocks.
func encode(fw *pqarrow.FileWriter, order <-chan *group, progress func(docs, bytes int64), cancel context.CancelCauseFunc) error {
	var failed error
	for g := range order {
		<-g.done
		if failed == nil && g.err != nil {
			failed = g.err
			cancel(failed)
		}
		if failed == nil && g.rec != nil { // no record: an empty group
			if err := fw.Write(g.rec); err != nil {
				failed = fmt.Errorf("write row group: %w", err)
				cancel(failed)
			} else if progress != nil {
				progress(g.docs, g.size)
			}
		}
		if g.rec != nil {
			g.rec.Release()
		}
		if g.overlap {
			<-overlapSlots
		} else {
			<-groupSlots
		}
	}
	return failed
}
