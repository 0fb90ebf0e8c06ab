package parquetout

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A Parquet file is written by one goroutine (pqarrow encodes and
// compresses a row group's columns in turn, into one stream), but turning
// BSON into Arrow arrays is independent per row group. So a file is a
// pipeline: the caller reads documents into row groups, builders (one
// per core) turn each group into an Arrow record, and one encoder writes
// the records in order. The encoder takes about 60 % of the CPU, so one
// encoder alone leaves a core partly idle; the engine overlaps a
// collection's files so that two encoders run, which groupSlots must
// leave room for.
//
// Memory: a group's documents go to its builder in pieces of pieceBytes
// as they are read, so a group holds a few pieces and its record as it
// grows, then its record until written; a process-wide budget of groups
// (groupSlots) bounds them whatever the number of files being written at
// once.

// groupSlots admits a row group into a pipeline; it is released once the
// group's record is written (or dropped). A slot holds at most its record
// (~1.2× rowGroupBytes on our documents) and three or four pieces.
// GOMAXPROCS + 1 keeps a group being encoded, one built and waiting, and
// one being read and built per spare core, which kept a file's encoder
// busy.
var groupSlots = make(chan struct{}, runtime.GOMAXPROCS(0)+1)

// overlapSlots are extra slots for a file started while an earlier file of
// the same collection is still being encoded (the engine overlaps them).
// A file's encoder is slower than its builders, so the earlier file holds
// the groupSlots with groups waiting for its encoder; from those alone the
// next file got slots only as the earlier one freed its last ones, so
// mostly one encoder ran and a core idled (the benchmark's 500 MiB
// collection took ~20 % longer). Two more keep the next file's encoder
// fed meanwhile. They are not shared by every file: with many small
// collections in flight, more groups only cost memory and collector time
// (the 20-collection benchmark to S3 took ~10 % longer with 5 slots for
// all).
var overlapSlots = make(chan struct{}, 2)

// pieceBytes is about how much BSON goes from the reader to a builder at
// once.
const pieceBytes = 1 << 20

// piecePool recycles pieces between groups and files.
var piecePool sync.Pool // *[]byte

func getPiece() []byte {
	if p, ok := piecePool.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, pieceBytes+pieceBytes/4)
}

// firstDoc splits a piece (documents back to back, as the reader put
// them) into its first document and the rest.
func firstDoc(piece []byte) (doc, rest []byte) {
	size := int(binary.LittleEndian.Uint32(piece))
	return piece[:size], piece[size:]
}

func putPiece(b []byte) {
	if cap(b) >= pieceBytes {
		piecePool.Put(&b)
	}
}

// group is one row group on its way from the reader to the file.
type group struct {
	// pieces carry the documents' BSON, back to back, to the builder;
	// closed after the last one.
	pieces chan []byte
	// aborted, set before pieces is closed, means the reader stopped
	// mid-group: the builder fails the group instead of cutting it short.
	aborted bool
	// overlap: the group holds one of overlapSlots, not of groupSlots.
	overlap bool
	first   int64 // the file's document number of the first document
	docs    int64
	size    int64
	rec     arrow.RecordBatch
	err     error
	done    chan struct{}
}

func newGroup(first int64) *group {
	return &group{pieces: make(chan []byte, 2), first: first, done: make(chan struct{})}
}

// builders turn groups into records, each goroutine with its own
// RecordBuilder.
type builders struct {
	tasks chan *group
	wg    sync.WaitGroup
}

// startBuilders starts n builders of records of schema s.
func startBuilders(s *Schema, n int) *builders {
	b := &builders{tasks: make(chan *group)}
	b.wg.Add(n)
	for range n {
		go b.run(s)
	}
	return b
}

func (b *builders) run(s *Schema) {
	defer b.wg.Done()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer rb.Release()
	app := newAppender(s, rb)
	broken := false
	for g := range b.tasks {
		if broken {
			g.err = errors.New("an earlier row group failed")
		} else {
			g.err = buildGroup(app, rb, g)
		}
		// Whatever happened, take every piece, so the reader never
		// blocks on this group.
		for p := range g.pieces {
			putPiece(p)
		}
		if g.err == nil && g.aborted {
			g.err = errors.New("the file was abandoned mid-row group")
		}
		// A failed or abandoned group leaves rb's columns uneven.
		broken = broken || g.err != nil
		close(g.done)
	}
}

// buildGroup appends every document of g and cuts the record.
func buildGroup(app *appender, rb *array.RecordBuilder, g *group) error {
	app.reserve()
	n := g.first
	for p := range g.pieces {
		for raw := p; len(raw) > 0; n++ {
			var doc []byte
			doc, raw = firstDoc(raw)
			if err := app.appendDoc(doc); err != nil {
				putPiece(p)
				return fmt.Errorf("document %d: %w", n, err)
			}
		}
		putPiece(p)
	}
	if g.aborted || n == g.first {
		return nil // run fails an aborted group; rb is never cut
	}
	g.rec = app.record(rb)
	return nil
}

// close stops the builders once every submitted group is built.
func (b *builders) close() {
	close(b.tasks)
	b.wg.Wait()
}

// submit hands g to a builder, or fails it when ctx ends first.
func (b *builders) submit(ctx context.Context, g *group) bool {
	select {
	case b.tasks <- g:
		return true
	case <-ctx.Done():
		g.err = context.Cause(ctx)
		close(g.done)
		return false
	}
}
